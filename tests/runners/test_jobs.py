"""The job pipeline on real PostgreSQL, Redis, ARQ workers, storage and media."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import av
import pytest

from app.config import Settings
from app.db import system_tx
from app.errors import NotFoundError, QuotaExceededError
from app.models import Artifact, Job, JobState, QuotaPolicy, Role, Stage, StageRun, StageState
from app.services import render
from app.storage import get_storage

pytestmark = pytest.mark.slow


async def stage_map(job_id: Any) -> dict[Stage, StageRun]:
    async with system_tx():
        return {r.stage: r for r in await StageRun.filter(job_id=job_id)}


async def job_row(job_id: Any) -> Job:
    async with system_tx():
        return await Job.get(id=job_id)


def decode_all(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as c:
        video = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        audio = sum(1 for _ in c.decode(audio=0))
    return video, audio


async def test_render_runs_every_stage_then_reuses_the_analysis_for_a_new_script(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        run_worker: Any) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker()
    done = await job_row(job.id)
    assert done.state is JobState.SUCCEEDED, (done.error_code, done.error_message)
    stages = await stage_map(job.id)
    assert stages[Stage.UPSCALE].state is StageState.SKIPPED
    assert all(r.state is StageState.SUCCEEDED for s, r in stages.items() if s is not Stage.UPSCALE)
    assert not any(r.cached for r in stages.values())
    storage = get_storage(settings)
    for name in ("final.mp4", "captions.srt", "chapters.txt", "thumbnail.jpg", "timeline.otio", "edl.json"):
        assert name in done.outputs, name
        assert await storage.stat(done.outputs[name]["key"]) is not None
    final = storage.local_path(done.outputs["final.mp4"]["key"])
    assert final is not None
    frames, audio_frames = decode_all(final)
    assert frames > 24 and audio_frames > 10

    # Same movie, new script: ingest, analyse and transcribe come from the cache.
    text = sample_film.script.read_text().replace("At dawn", "Early one morning")
    again = await render.start_render(principal, project.id,
                                      render.RenderOptions(profile="source", script_text=text), settings)
    await run_worker()
    assert (await job_row(again.id)).state is JobState.SUCCEEDED
    stages = await stage_map(again.id)
    assert {s for s, r in stages.items() if r.cached} == {Stage.INGEST, Stage.ANALYSE, Stage.TRANSCRIBE,
                                                          Stage.MODERATE}
    assert not stages[Stage.SCRIPT].cached and not stages[Stage.ALIGN].cached  # (bench/jobs.py: the speed-up)
    async with system_tx():
        # each artifact exists once, shared by both jobs
        for stage in (Stage.INGEST, Stage.ANALYSE, Stage.TRANSCRIBE):
            assert await Artifact.filter(tenant_id=principal.tenant_id, stage=stage).count() == 1


async def test_retry_resumes_from_the_failed_stage(settings: Settings, sample_film: Any, principal_factory: Any,
                                                   project_with_assets: Any, run_worker: Any) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie])  # no script: the script stage fails
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker()
    failed = await job_row(job.id)
    assert failed.state is JobState.FAILED and failed.error_code == "NO_SCRIPT"
    before = await stage_map(job.id)
    assert before[Stage.SCRIPT].state is StageState.FAILED
    assert before[Stage.INGEST].state is StageState.SUCCEEDED

    await project_with_assets(principal, [], sample_film.script)  # a script in another project does not help
    async with system_tx():
        from app.models import Asset, AssetKind

        other = await Asset.filter(kind=AssetKind.SCRIPT, tenant_id=principal.tenant_id).first()
        assert other is not None
        other.project_id = project.id  # type: ignore[attr-defined]
        await other.save()
    await render.retry_job(principal, job.id, settings)
    await run_worker()
    after = await stage_map(job.id)
    assert (await job_row(job.id)).state is JobState.SUCCEEDED
    assert after[Stage.INGEST].attempt == 1 and after[Stage.TRANSCRIBE].attempt == 1  # not re-run
    assert after[Stage.SCRIPT].attempt == 2


async def test_quota_race_admits_exactly_the_limit(settings: Settings, sample_film: Any, principal_factory: Any,
                                                   project_with_assets: Any, redis_client: Any) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    async with system_tx():
        await QuotaPolicy.create(tenant_id=principal.tenant_id, concurrent_jobs=3,
                                 processing_minutes_per_month=100_000, storage_bytes=10**12)
    results = await asyncio.gather(*[render.start_render(principal, project.id, render.RenderOptions(), settings)
                                     for _ in range(100)], return_exceptions=True)
    admitted = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, QuotaExceededError)]
    assert len(admitted) == 3 and len(refused) == 97
    for job in admitted:
        await render.cancel_job(principal, job.id)


async def test_monthly_minutes_are_enforced(settings: Settings, sample_film: Any, principal_factory: Any,
                                            project_with_assets: Any) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    async with system_tx():
        await QuotaPolicy.create(tenant_id=principal.tenant_id, concurrent_jobs=5, processing_minutes_per_month=0,
                                 storage_bytes=10**12)
    with pytest.raises(QuotaExceededError) as info:
        await render.start_render(principal, project.id, render.RenderOptions(), settings)
    assert info.value.field == "processingMinutes"


async def test_cancel_reaches_running_media_work_before_its_next_unit(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        run_worker: Any) -> None:
    """Deterministic: the media loop sees the cancel and reports no further unit of work; no artifact.

    The latency figure (seconds from cancelJob to the stage stopping) is measured by bench/cancel.py.
    """
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="720p"), settings)
    # a short lease: the heartbeat (every lease/4 s) writes the stage's progress to PostgreSQL
    worker = asyncio.create_task(run_worker(worker=settings.worker.model_copy(update={"lease_seconds": 8})))

    async def assembling() -> bool:  # the 720p re-encode reported a unit of work: the media loop is running
        run = (await stage_map(job.id))[Stage.ASSEMBLE]
        return run.state is StageState.RUNNING and run.progress > 0
    while not await assembling():
        assert not worker.done(), "the worker stopped before the assemble stage ran"
        await asyncio.sleep(0.05)
    await render.cancel_job(principal, job.id)
    await asyncio.wait_for(worker, 240)
    runs = await stage_map(job.id)
    assemble = runs[Stage.ASSEMBLE]
    assert assemble.state is StageState.CANCELLED
    assert assemble.error_code == "CANCELLED"
    message = assemble.error_message or ""
    assert re.match(r"(assembly|mix) cancelled; cancel seen at unit [1-9]", message), message  # in the media loop
    assert message.endswith("; 0 units after it"), message  # ... which reported no further unit of work
    assert assemble.artifact_id is None  # type: ignore[attr-defined]
    async with system_tx():
        assert not await Artifact.filter(tenant_id=principal.tenant_id, stage=Stage.ASSEMBLE).exists()
    assert not list((settings.storage_root / "intermediate" / str(principal.tenant_id)).glob("cache/assemble/*"))
    assert (await job_row(job.id)).state is JobState.CANCELLED


async def test_another_tenant_cannot_touch_a_job(settings: Settings, sample_film: Any, principal_factory: Any,
                                                 project_with_assets: Any) -> None:
    owner, _ = await principal_factory(Role.EDITOR)
    stranger, _ = await principal_factory(Role.OWNER)
    project = await project_with_assets(owner, [sample_film.movie], sample_film.script)
    job = await render.start_render(owner, project.id, render.RenderOptions(), settings)
    for call in (render.cancel_job(stranger, job.id), render.retry_job(stranger, job.id, settings),
                 render.get_job(stranger, job.id), render.start_render(stranger, project.id, render.RenderOptions(),
                                                                       settings)):
        with pytest.raises(NotFoundError):
            await call
    assert (await job_row(job.id)).state is JobState.QUEUED
    await render.cancel_job(owner, job.id)
