"""Benchmark: the job pipeline's overhead, and progress fan-out to 500 websocket subscribers.

1. Overhead: one render through the API (GraphQL startRender -> ARQ queue -> worker stages ->
   artifacts in storage -> delivery) against calling the same media functions in-process
   (``media.render.render``) on the same input, in the same run. Source: the demo's generated
   film (``--minutes`` loops it to a longer source; the issue allows the 5-minute one).
2. Fan-out: 500 concurrent ``jobProgress`` subscriptions (graphql-transport-ws) to one job on an
   API server in a subprocess; events published on Redis with a timestamp; latency from publish to
   receipt p50/p99, and every subscriber must see every ``seq``.

    .venv/bin/python bench/jobs.py [--minutes 5] [--subscribers 500] [--events 100] [--skip-overhead]

Uses DATABASE_URL/REDIS_URL when set (a throwaway database is created and dropped), else the
embedded servers. Writes bench/results/jobs.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _fresh_database(server_url: str) -> str:
    import asyncpg

    from app.config import Settings
    from app.db import migrate

    name = f"recap_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_with_db(server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = _with_db(server_url, name)
    await migrate(url, app_role=Settings().db_app_role)
    return url


async def _drop_database(server_url: str, url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(_with_db(server_url, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path[1:]}" WITH (FORCE)')
    await admin.close()


def _source(minutes: float, work: Path) -> tuple[Path, str]:
    """The generated film, looped (stream copy) to about ``minutes`` of footage; and its script."""
    import av

    from media.samplefilm import build_sample_film
    from media.tts import PiperNarrator

    film = build_sample_film(work / "film", PiperNarrator())
    script = film.script.read_text()
    loops = max(1, round(minutes * 60 / film.duration))
    if loops == 1:
        return film.movie, script
    out = work / f"film_x{loops}.mp4"
    with av.open(str(film.movie)) as src, av.open(str(out), "w") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        offsets: dict[int, int] = dict.fromkeys(streams, 0)
        for _ in range(loops):
            src.seek(0)
            last: dict[int, int] = {}
            for packet in src.demux():
                if packet.stream.index not in streams or packet.dts is None:
                    continue
                i = packet.stream.index
                packet.pts = (packet.pts or 0) + offsets[i]
                packet.dts = packet.dts + offsets[i]
                last[i] = max(last.get(i, 0), packet.pts + (packet.duration or 0))
                packet.stream = streams[i]
                dst.mux(packet)
            offsets.update(last)
    return out, script


def _in_process(source: Path, script: str, work: Path) -> float:
    from media.render import RenderOptions, render

    t0 = time.perf_counter()
    render([source], script, work / "inproc" / "recap.mp4", RenderOptions(profile="source"))
    return time.perf_counter() - t0


async def _through_api(settings: Any, source: Path, script: str, work: Path) -> dict[str, float]:
    import uvicorn

    from app.main import create_app
    from app.sdk import RecapClient
    from runners.worker import build_worker

    port = _free_port()
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    worker = build_worker(settings, handle_signals=False)
    wtask = asyncio.create_task(worker.async_run())
    try:
        async with RecapClient(f"http://127.0.0.1:{port}", timeout=600) as api:
            await api.register(f"bench{uuid.uuid4().hex[:6]}@example.com", "Bench-Password-42", "Bench")
            project = await api.create_project("bench")
            t_up = time.perf_counter()
            await api.upload_asset(project["id"], source, "SOURCE_VIDEO")
            upload_s = time.perf_counter() - t_up
            t0 = time.perf_counter()
            job = await api.start_render(project["id"], {"profile": "source", "scriptText": script})
            async for _event in api.job_progress(job["id"]):
                pass
            total = time.perf_counter() - t0
            final = await api.job(job["id"])
            assert str(final["state"]).lower() == "succeeded", final
    finally:
        await worker.close()
        wtask.cancel()
        server.should_exit = True
        await asyncio.gather(task, wtask, return_exceptions=True)
    return {"upload_s": upload_s, "job_s": total}


async def _fanout(settings: Any, subscribers: int, events: int, env: dict[str, str], interval: float
                  ) -> dict[str, Any]:
    import redis.asyncio as aioredis

    from app.auth.tokens import issue_access_token
    from app.db import close_db, init_db, system_tx
    from app.events import ProgressEvent, publish
    from app.models import Job, Project, Role, Tenant, User
    from app.sdk import RecapClient

    await init_db(settings)
    async with system_tx():
        tenant = await Tenant.create(name="fanout", slug=f"f-{uuid.uuid4().hex[:8]}")
        user = await User.create(email=f"f{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        project = await Project.create(tenant_id=tenant.id, name="fanout")
        job = await Job.create(tenant_id=tenant.id, project_id=project.id, state="running")
    token = issue_access_token(user.id, tenant.id, Role.VIEWER, settings=settings.auth)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port),
                             "--log-level", "warning"], env={**os.environ, **env}, cwd=ROOT)
    received: list[list[tuple[int, float]]] = [[] for _ in range(subscribers)]
    ready = asyncio.Event()
    connected = 0

    async def subscribe(i: int) -> None:
        nonlocal connected
        async with RecapClient(f"http://127.0.0.1:{port}", token=token) as api:
            async for event in api.job_progress(str(job.id)):
                if event["kind"] == "snapshot":
                    connected += 1
                    if connected == subscribers:
                        ready.set()
                    continue
                sent = datetime.fromisoformat(event["at"]).timestamp()
                received[i].append((event["seq"], time.time() - sent))
    try:
        await _wait_port(port)
        tasks = []
        for i in range(subscribers):  # open in waves: 2 cores accept a few hundred handshakes slowly
            tasks.append(asyncio.create_task(subscribe(i)))
            if i % 25 == 24:
                while connected < i - 50:
                    await asyncio.sleep(0.05)
        await asyncio.wait_for(ready.wait(), 300)
        redis = aioredis.Redis.from_url(settings.redis_url)
        for seq in range(1, events + 1):
            last = seq == events
            await publish(redis, ProgressEvent(str(job.id), str(project.id), seq, None if last else "analyse",
                                               "succeeded" if last else "running", seq / events, "",
                                               "job" if last else "progress"))
            await asyncio.sleep(interval)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        await redis.aclose()
    finally:
        proc.terminate()
        proc.wait(10)
        await close_db()
    latencies = [lat * 1000 for got in received for _, lat in got]
    complete = sum(1 for got in received if sorted(s for s, _ in got) == list(range(1, events + 1)))
    return {"subscribers": subscribers, "events": events, "interval_s": interval,
            "subscribers_with_every_seq": complete,
            "latency_ms_p50": _pct(latencies, 0.5), "latency_ms_p99": _pct(latencies, 0.99),
            "latency_ms_max": max(latencies), "latency_ms_mean": statistics.fmean(latencies)}


async def _wait_port(port: int, limit_s: float = 60) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("API server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=1.0, help="source length (the film is looped)")
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between events (0.5: the worker's progress throttle per stage)")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    from app.cli.runtime import runtime_settings

    RESULTS.mkdir(parents=True, exist_ok=True)
    work = RESULTS / "jobs-work"
    work.mkdir(exist_ok=True)
    with runtime_settings(migrate=False) as base:
        assert base.database_url and base.redis_url
        db = asyncio.run(_fresh_database(base.database_url))
        env = {"DATABASE_URL": db, "REDIS_URL": base.redis_url, "RECAP_DATA_DIR": str(work / "data"),
               "RECAP_ENV": "development"}
        settings = base.model_copy(update={"database_url": db, "data_dir": work / "data"})
        out: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "cpus": os.cpu_count()}
        try:
            if not args.skip_overhead:
                source, script = _source(args.minutes, work)
                inproc = _in_process(source, script, work)
                api = asyncio.run(_through_api(settings, source, script, work))
                out["overhead"] = {"source_minutes": args.minutes, "in_process_s": inproc, **api,
                                   "overhead_ratio": api["job_s"] / inproc - 1.0}
                print(f"in-process render {inproc:.1f} s; through API/queue/worker {api['job_s']:.1f} s "
                      f"(+ upload {api['upload_s']:.1f} s): overhead {out['overhead']['overhead_ratio']:+.1%}")
            fan = asyncio.run(_fanout(settings, args.subscribers, args.events, env, args.interval))
            out["fanout"] = fan
            print(f"fan-out to {fan['subscribers']} subscribers, one event every {args.interval} s: "
                  f"p50 {fan['latency_ms_p50']:.1f} ms, p99 {fan['latency_ms_p99']:.1f} ms; "
                  f"with every seq: {fan['subscribers_with_every_seq']}")
        finally:
            asyncio.run(_drop_database(base.database_url, db))
    (RESULTS / "jobs.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
