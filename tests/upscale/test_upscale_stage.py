"""The gpu queue end to end: a render with upscale, its upscale stage run by a CPU "GPU worker"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.db import system_tx
from app.models import Job, JobState, Role, Stage, StageRun, StageState
from app.queue import GPU_QUEUE
from app.services import render
from app.storage import get_storage
from tests.media.framegen import make_indexed_clip
from tests.upscale.clips import stream_info


async def _run_gpu_worker(settings: Settings, limit_s: float = 300.0) -> None:
    from runners.worker import build_worker

    worker = build_worker(settings, queue=GPU_QUEUE, burst=True, handle_signals=False)
    try:
        await asyncio.wait_for(worker.async_run(), limit_s)
    finally:
        await worker.close()


async def _render_until_upscale(settings: Settings, principal_factory: Any, project_with_assets: Any,
                                run_worker: Any, tmp_path: Path) -> Job:
    source = make_indexed_clip(tmp_path / "movie.mp4", frames=36, fps=12, size=(96, 54), gop=12)
    script = tmp_path / "script.md"
    script.write_text("# Tiny\n\nThe blocks change.\n", encoding="utf-8")
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [source], script)
    upscale = {"model": "realesr-animevideov3", "target": "NATIVE", "tile": 0, "chunk_seconds": 1.0}
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source", upscale=upscale),
                                    settings)
    await run_worker()  # the CPU stages up to assemble; upscale waits on the gpu queue
    async with system_tx():
        runs = {r.stage: r for r in await StageRun.filter(job_id=job.id)}
    assert runs[Stage.ASSEMBLE].state is StageState.SUCCEEDED
    assert runs[Stage.UPSCALE].state is StageState.QUEUED
    return job


def _gpu(settings: Settings, **worker: Any) -> Settings:
    return settings.model_copy(update={"worker": settings.worker.model_copy(update={"gpu_enabled": True, **worker})})


@pytest.mark.timeout(900)
async def test_render_with_upscale_runs_the_stage_on_the_gpu_queue(
        settings: Settings, principal_factory: Any, project_with_assets: Any, run_worker: Any,
        tmp_path: Path) -> None:
    gpu = _gpu(settings)
    job = await _render_until_upscale(gpu, principal_factory, project_with_assets, run_worker, tmp_path)
    await _run_gpu_worker(gpu)
    await run_worker()  # finalize and deliver
    async with system_tx():
        done = await Job.get(id=job.id)
        runs = {r.stage: r for r in await StageRun.filter(job_id=job.id)}
    assert done.state is JobState.SUCCEEDED, (done.error_code, done.error_message)
    assert runs[Stage.UPSCALE].state is StageState.SUCCEEDED
    storage = get_storage(settings)
    segments = [s.key for s in await storage.list(f"upscale_outputs/{job.id}/")]
    assert any(k.endswith("manifest.json") for k in segments) and any(k.endswith("seg_0000.mp4") for k in segments)
    assert [s.key for s in await storage.list(f"upscale_inputs/{job.id}/")]
    final = storage.local_path(done.outputs["final.mp4"]["key"])
    assert final is not None
    assert stream_info(final)["size"] == (384, 216)  # the finals use the upscaled program (NATIVE: x4)


@pytest.mark.timeout(900)
async def test_remote_workers_do_the_chunks_of_a_coordinated_upscale(
        settings: Settings, principal_factory: Any, project_with_assets: Any, run_worker: Any,
        tmp_path: Path) -> None:
    from app.gpu.tokens import mint_worker_token
    from app.main import create_app
    from colab.remote import RemoteWorker
    from tests.runners.conftest import serve_on_loopback

    coordinator = _gpu(settings, upscale_remote=True)
    job = await _render_until_upscale(coordinator, principal_factory, project_with_assets, run_worker, tmp_path)
    app = lambda url: create_app(settings.model_copy(update={"public_url": url}))  # noqa: E731
    async with serve_on_loopback(app, ws="websockets-sansio") as url:
        worker = RemoteWorker(url, mint_worker_token(settings, "colab-test"), tmp_path / "colab", device="cpu")
        remote = asyncio.create_task(asyncio.to_thread(worker.run, stop_after_idle_s=20, poll_s=0.2))
        await _run_gpu_worker(coordinator)  # splits, publishes, checks each uploaded segment, joins
        done = await remote
    assert done >= 1 and all(j == str(job.id) for j, _ in worker.done)
    await run_worker()
    async with system_tx():
        finished = await Job.get(id=job.id)
    assert finished.state is JobState.SUCCEEDED, (finished.error_code, finished.error_message)
    final = get_storage(settings).local_path(finished.outputs["final.mp4"]["key"])
    assert final is not None and stream_info(final)["size"] == (384, 216)
