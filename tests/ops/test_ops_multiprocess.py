"""Two API processes and two workers behind a local proxy: a render started through one API is watched
through the proxy on the other; that API is killed mid-subscription; the client reconnects through the
proxy (now to the surviving API) and resumes from the snapshot until the job ends."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.sdk import ApiError, RecapClient
from tests.ops.conftest import SCRIPT_TEXT
from tests.ops.tcp_proxy import TcpProxy
from tests.runners.conftest import worker_env

TERMINAL = {"succeeded", "failed", "cancelled"}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _processes(settings: Settings, proxy_port: int) -> AsyncIterator[tuple[list[Any], list[int], list[Any]]]:
    """Two ``recap serve`` and two ``recap worker`` processes on the test's database, Redis and storage."""
    cli = [sys.executable, "-c", "from app.cli import main; main()"]
    env = worker_env(settings, RECAP_PUBLIC_URL=f"http://127.0.0.1:{proxy_port}")
    ports = [_free_port(), _free_port()]
    apis = [await asyncio.create_subprocess_exec(*cli, "serve", "--port", str(p), env=env,
                                                 stderr=asyncio.subprocess.DEVNULL) for p in ports]
    workers = [await asyncio.create_subprocess_exec(*cli, "worker", env=env, stderr=asyncio.subprocess.DEVNULL)
               for _ in range(2)]
    try:
        async with httpx.AsyncClient(timeout=1.0) as http:
            for proc, port in zip(apis, ports, strict=True):
                deadline = time.monotonic() + 600  # a hang guard, not a speed check
                while True:
                    assert proc.returncode is None, "recap serve exited"
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                            break
                    assert time.monotonic() < deadline, "recap serve never became ready"
                    await asyncio.sleep(0.2)
        yield apis, ports, workers
    finally:
        for proc in [*apis, *workers]:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*apis, *workers]:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _watch_once(client: RecapClient, job_id: str, events: list[dict[str, Any]],
                      on_event: Any) -> bool:
    """One subscription; True when it reached the job's end, False when the connection dropped."""
    try:
        async for event in client.job_progress(job_id):
            events.append(event)
            on_event(events)
            if event["kind"] in ("snapshot", "job") and event["state"] in TERMINAL:
                return True
    except (ApiError, OSError):
        return False
    return False


@pytest.mark.slow
async def test_subscription_survives_an_api_process_dying(settings: Settings, project_with_clip: Any) -> None:
    _, token, project = await project_with_clip()
    proxy_port = _free_port()
    async with _processes(settings, proxy_port) as (apis, ports, _workers):
        proxy = TcpProxy([("127.0.0.1", ports[1]), ("127.0.0.1", ports[0])])  # first connection: API 2
        async with proxy as proxy_url:
            direct = RecapClient(f"http://127.0.0.1:{ports[0]}", token=token)
            watcher = RecapClient(proxy_url, token=token)

            def kill_api_2_after_two_events(events: list[dict[str, Any]]) -> None:
                if apis[1].returncode is None and len(events) >= 2:
                    apis[1].kill()  # API 2 dies mid-subscription (SIGKILL: no goodbye)

            try:  # the render is started through API 1, directly; watched through the proxy
                job = await direct.start_render(str(project.id), {"scriptText": SCRIPT_TEXT, "narration": "none",
                                                                  "profile": "source"})
                sessions: list[list[dict[str, Any]]] = []
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    sessions.append([])
                    if await asyncio.wait_for(_watch_once(watcher, job["id"], sessions[-1],
                                                          kill_api_2_after_two_events), 240):
                        break
                    await asyncio.sleep(0.2)  # dropped: reconnect through the proxy
            finally:
                await direct.close()
                await watcher.close()
    assert apis[1].returncode is not None and len(sessions) >= 2, f"sessions: {[len(s) for s in sessions]}"
    assert proxy.connections[0] == ("127.0.0.1", ports[1])  # watched on API 2 first ...
    assert set(proxy.connections[1:]) == {("127.0.0.1", ports[0])}  # ... then every reconnect reached API 1
    first, resumed = sessions[0], sessions[-1]
    assert first[0]["kind"] == "snapshot" and resumed[0]["kind"] == "snapshot"
    assert resumed[0]["seq"] >= max(e["seq"] for e in first)  # the snapshot covers what was already seen
    assert resumed[-1]["state"] == "succeeded", resumed[-1]
    live = [e["seq"] for e in resumed[1:]]
    assert len(live) == len(set(live)) and all(seq > resumed[0]["seq"] for seq in live)
