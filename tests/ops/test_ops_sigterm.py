"""Spot/preemptible workers: SIGTERM mid-stage finishes the stage within the grace period, or hands it
back (lease released, state QUEUED, message ready at once) so another worker takes it immediately."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import system_tx
from app.models import Stage, StageRun, StageState
from app.queue import CPU_QUEUE, queue_stats
from tests.ops.conftest import clear_queues

HERE = Path(__file__).resolve().parent


async def _run_of(job_id: Any) -> StageRun:
    async with system_tx():
        return await StageRun.get(job_id=job_id, stage=Stage.INGEST)


async def _start_slow_worker(settings: Settings, seconds: float, stop_wait_s: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "RECAP_WORKER__STOP_WAIT_SECONDS": str(stop_wait_s), "PYTHONPATH": str(HERE.parents[1]),
           "RECAP_DATA_DIR": str(settings.data_dir), "RECAP_STORAGE__ROOT": str(settings.storage_root)}
    return await asyncio.create_subprocess_exec(sys.executable, str(HERE / "slow_worker.py"), str(seconds), env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def _wait_running(job_id: Any, proc: asyncio.subprocess.Process, settings: Settings,
                        limit_s: float = 600) -> None:
    """Until the stage's media work runs (the slow stage leaves a marker file)."""
    deadline = time.monotonic() + limit_s
    marker = settings.data_dir / f"slow-started-{job_id}"
    while not marker.exists() or (await _run_of(job_id)).state is not StageState.RUNNING:
        assert proc.returncode is None, (await proc.stderr.read()).decode()[-2000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the stage never started"
        await asyncio.sleep(0.1)


async def test_sigterm_hands_the_stage_back_at_once(settings: Settings, render_job: Any, redis_client: Any,
                                                    run_worker_burst: Any) -> None:
    await clear_queues(redis_client)
    _, job = await render_job()
    proc = await _start_slow_worker(settings, seconds=120, stop_wait_s=0)
    try:
        await _wait_running(job.id, proc, settings)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 300)  # a hang guard: with stop_wait 0 it hands back at once
    finally:
        if proc.returncode is None:
            proc.kill()
    run = await _run_of(job.id)
    assert run.state is StageState.QUEUED and run.lease_expires_at is None and run.attempt == 1
    # The same message is ready for the next worker now: still queued, due, and nobody holds it.
    message = f"{job.id}:ingest:1"
    score = await redis_client.zscore(CPU_QUEUE, message)
    assert score is not None and score <= time.time() * 1000
    assert not await redis_client.exists(f"arq:in-progress:{message}")
    stats = await queue_stats(redis_client, CPU_QUEUE)
    assert stats["ready"] >= 1 and stats["running"] == 0, await redis_client.zrange(CPU_QUEUE, 0, -1)
    await run_worker_burst(max_jobs=1)  # another worker takes it: the real ingest stage
    run = await _run_of(job.id)
    assert run.state is StageState.SUCCEEDED and run.attempt == 2


async def test_sigterm_lets_a_short_stage_finish_within_the_grace(settings: Settings, render_job: Any,
                                                                  redis_client: Any) -> None:
    await clear_queues(redis_client)
    _, job = await render_job()
    proc = await _start_slow_worker(settings, seconds=2, stop_wait_s=30)
    try:
        await _wait_running(job.id, proc, settings)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    run = await _run_of(job.id)
    assert run.state is StageState.SUCCEEDED and run.attempt == 1
    assert run.wall_seconds >= 2  # accounted before the worker left
