"""End-to-end fixtures: the pipeline fixtures of tests/runners plus API-level helpers.

Re-exported from tests/runners/conftest.py: sample_film, principal_factory, project_with_assets,
run_worker, api_server, spawn_worker. Added here: ``serve_process`` (a ``recap serve`` subprocess,
a second API process with its own Redis pub/sub hub), ``follow`` (collect a job's progress events
through the SDK) and ``SHARED`` (the shared media folder).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.sdk import RecapClient
from tests.runners import conftest as runners_conftest
from tests.runners.conftest import (  # noqa: F401  (fixtures re-exported for tests/e2e)
    api_server,
    principal_factory,
    project_with_assets,
    run_worker,
    sample_film,
    spawn_worker,
    worker_env,
)

SHARED: Path = runners_conftest.SHARED
TERMINAL = {"succeeded", "failed", "cancelled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def follow(api: RecapClient, job_id: str, limit_s: float = 240.0, *,
                 until: frozenset[str] = frozenset(TERMINAL)) -> list[dict[str, Any]]:
    """Every ``jobProgress`` event of ``job_id`` until a snapshot or job event reaches a state in ``until``."""
    events: list[dict[str, Any]] = []

    async def collect() -> None:
        async for event in api.job_progress(job_id):
            events.append(event)
            if event["kind"] in ("snapshot", "job") and event["state"] in until:
                return

    await asyncio.wait_for(collect(), limit_s)
    return events


def check_gapless(events: list[dict[str, Any]], final: str = "succeeded") -> tuple[int, int]:
    """A snapshot, then every seq after it exactly once, each stage's own events in order, ending in ``final``.

    Returns (number of live events, number that arrived before a lower seq of another stage).
    """
    assert events, "no events at all"
    first, live = events[0], events[1:]
    assert first["kind"] == "snapshot" and isinstance(first["stages"], list) and first["stages"]
    last = events[-1]
    assert last["kind"] == "job" and last["state"] == final, last
    seqs = [e["seq"] for e in live]
    assert len(seqs) == len(set(seqs)), "an event was delivered twice"
    expected = set(range(first["seq"] + 1, max(seqs) + 1))
    assert set(seqs) == expected, f"after snapshot seq {first['seq']}, missing {sorted(expected - set(seqs))}"
    by_stage: dict[str, list[int]] = defaultdict(list)
    for event in live:
        by_stage[event["stage"] or "-"].append(event["seq"])
    for stage, numbers in by_stage.items():
        if stage != "-":
            assert numbers == sorted(numbers), f"{stage}'s events out of order: {numbers}"
    out_of_order = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
    return len(live), out_of_order


@pytest.fixture
async def serve_process(settings: Settings) -> AsyncIterator[Any]:
    """``async with serve_process() as url``: ``recap serve`` in a subprocess on the test's database and Redis."""
    procs: list[asyncio.subprocess.Process] = []

    @asynccontextmanager
    async def start(limit_s: float = 90.0, *args: str) -> AsyncIterator[str]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from app.cli import main; main()", "serve", *args, "--port", str(port),
            env=worker_env(settings, RECAP_PUBLIC_URL=url))
        procs.append(proc)
        deadline = time.monotonic() + limit_s
        async with httpx.AsyncClient(timeout=1.0) as http:
            while True:
                if proc.returncode is not None:
                    pytest.fail(f"recap serve exited with {proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail("recap serve did not answer /healthz in time")
                await asyncio.sleep(0.2)
        yield url

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or a skip naming what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/{'/'.join(parts[:-1])} is not mounted)")
    return path
