"""``recap demo``: the whole product on one machine, through its real API.

Starts the embedded stack (unless DATABASE_URL/REDIS_URL are set), the API server and a
worker in this process, creates a demo tenant and user, builds a sample film (a few scenes
with dialogue spoken by the packaged Piper voice, and a recap script that paraphrases
them) unless ``--source/--script`` are given, uploads through tus, starts the render,
follows the ``jobProgress`` subscription with progress bars, and downloads the outputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.config import Settings
from app.sdk import ApiError, RecapClient

STAGES = ("ingest", "analyse", "transcribe", "script", "align", "moderate", "assemble", "finalize", "deliver")
console = Console(stderr=True)


def run_demo(sources: list[Path], script: Path | None, out: Path, *, profile: str, port: int) -> int:
    from app.cli.runtime import runtime_settings

    with runtime_settings() as settings:
        try:
            return asyncio.run(_main(settings, sources, script, out, profile=profile, port=port))
        except ApiError as ex:
            console.print(f"[red]demo failed: {ex}[/red]")
            return 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _credentials(settings: Settings) -> dict[str, str]:
    path = settings.data_dir / "demo-credentials.json"
    if path.is_file():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    data = {"email": "demo@recap.local", "password": "Demo-" + secrets.token_urlsafe(12)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return data


def _sample(settings: Settings) -> tuple[list[Path], Path]:
    from media.samplefilm import build_sample_film
    from media.tts import PiperNarrator

    folder = settings.data_dir / "demo-media"
    movie, script = folder / "sample_film.mp4", folder / "sample_script.md"
    if not (movie.is_file() and script.is_file()):
        with Progress(TextColumn("{task.description}"), BarColumn(), console=console) as bar:
            task = bar.add_task("building the sample film (Piper voices)", total=1.0)
            build_sample_film(folder, PiperNarrator(), progress=lambda f: bar.update(task, completed=f))
    return [movie], script


async def _serve(settings: Settings, port: int) -> tuple[Any, asyncio.Task[None], Any, asyncio.Task[None]]:
    import uvicorn

    from app.main import create_app
    from runners.worker import build_worker

    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    server_task = asyncio.create_task(server.serve())
    while not server.started:
        if server_task.done():
            server_task.result()
            raise RuntimeError("the API server did not start")
        await asyncio.sleep(0.05)
    worker = build_worker(settings, handle_signals=False)
    worker_task = asyncio.create_task(worker.async_run())
    return server, server_task, worker, worker_task


async def _account(api: RecapClient, settings: Settings) -> None:
    creds = _credentials(settings)
    try:
        await api.login(creds["email"], creds["password"])
    except ApiError:
        await api.register(creds["email"], creds["password"], "Recap demo", "Demo user")


async def _follow(api: RecapClient, job_id: str) -> dict[str, Any]:
    columns = (TextColumn("{task.description:<11}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
               TextColumn("{task.fields[state]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bars:
        overall = bars.add_task("[bold]job", total=1.0, state="queued")
        tasks: dict[str, TaskID] = {s: bars.add_task(s, total=1.0, state="pending") for s in STAGES}
        async for event in api.job_progress(job_id):
            for stage in event.get("stages") or []:
                if stage["stage"] in tasks:
                    done = stage["state"] in ("succeeded", "skipped")
                    bars.update(tasks[stage["stage"]], completed=1.0 if done else stage["progress"],
                                state=stage["state"] + (" (cached)" if stage.get("cached") else ""))
            if event["kind"] in ("progress", "stage") and event.get("stage") in tasks:
                done = event["state"] == "succeeded"
                bars.update(tasks[event["stage"]], completed=1.0 if done else event["progress"],
                            state=event["state"] + (" (cached)" if event["message"] == "cached" else ""))
            if event["kind"] in ("job", "snapshot"):
                bars.update(overall, completed=event["progress"], state=event["state"])
    return await api.job(job_id)


async def _main(settings: Settings, sources: list[Path], script: Path | None, out: Path, *, profile: str,
                port: int) -> int:
    if not sources:
        sources, script = _sample(settings)
    assert script is not None
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"public_url": url})
    server, server_task, worker, worker_task = await _serve(settings, port)
    console.print(f"API at [bold]{url}/graphql[/bold] (GraphiQL in development); worker running in-process")
    try:
        async with RecapClient(url, timeout=300) as api:
            await _account(api, settings)
            project = await api.create_project(f"Demo: {sources[0].stem}"[:200])
            for path in sources:
                console.print(f"uploading {path.name} (tus, 8 MiB chunks, sha1 checksums)")
                await api.upload_asset(project["id"], path, "SOURCE_VIDEO")
            await api.upload_asset(project["id"], script, "SCRIPT")
            job = await api.start_render(project["id"], {"profile": profile, "narration": "tts",
                                                         "title": project["name"]})
            console.print(f"render job {job['id']} started")
            final = await _follow(api, job["id"])
            if str(final["state"]).lower() != "succeeded":
                console.print(f"[red]job {final['state']}: {final.get('errorCode')} {final.get('errorMessage')}")
                return 1
            return await _download(api, final, out)
    finally:
        await _stop(server, server_task, worker, worker_task)


async def _stop(server: Any, server_task: asyncio.Task[None], worker: Any, worker_task: asyncio.Task[None]) -> None:
    worker_task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await worker_task
    with contextlib.suppress(Exception):
        await worker.close()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(server_task, timeout=15)


async def _download(api: RecapClient, job: dict[str, Any], out: Path) -> int:
    data = await api.graphql("query($j:ID!){job(id:$j){...on Job{downloads{name url size}}}}", {"j": job["id"]})
    table = Table(title=f"Recap outputs in {out.resolve()}")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for item in data["job"]["downloads"]:
        path = await api.download(item["url"], out / item["name"])
        table.add_row(str(path), f"{path.stat().st_size:,}")
    console.print(table)
    return 0
