"""Runs one stage of one job: claim, cache lookup, work, artifact, success, next stages.

"Jobs may be called more than once": a stage replaces, never appends; it writes its
artifact, THEN marks itself done, then enqueues what is ready next. A ``MediaError``
fails the stage with its code and is not retried; infrastructure errors are retried.

    await run_stage(ctx, job_id, "analyse")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from arq import Retry
from redis.exceptions import RedisError

from app.config import Settings
from app.db import system_tx
from app.events import cancel_key
from app.models import Job, Stage, StageRun, StageState
from app.queue import enqueue_stage
from media.errors import CancelledError as MediaCancelled
from media.errors import MediaError
from runners import stages as stage_registry
from runners.artifacts import artifact_complete, find_artifact, job_prefix, store_artifact
from runners.context import StageContext, StageInputError
from runners.notify import job_finished
from runners.progress import Emitter, ProgressReporter
from runners.state import (
    Claim,
    advance_job,
    claim_stage,
    extend_lease,
    fail_stage,
    is_cancelled,
    release_stage,
    succeed_stage,
)

log = logging.getLogger(__name__)


async def run_stage(ctx: dict[str, Any], job_id: str, stage_name: str) -> str:
    """ARQ entry point for every stage."""
    settings: Settings = ctx["settings"]
    stage = Stage(stage_name)
    claim = await claim_stage(job_id, stage, lease_s=settings.worker.lease_seconds)
    if claim is None:
        await _advance(ctx, job_id)  # maybe a duplicate message for finished work: keep the job moving
        return "skipped"
    emit = Emitter(ctx["redis"], claim.job_id, claim.project_id)
    await emit(stage.value, "running", 0.0, f"attempt {claim.attempt}", "stage")
    workdir = Path(tempfile.mkdtemp(prefix=f"recap-{stage.value}-", dir=ctx.get("workroot")))
    reporter = ProgressReporter(emit, stage.value)
    sc = StageContext(claim, settings, ctx["storage"], ctx["models"], workdir, reporter)
    stop = asyncio.Event()
    watchers = [asyncio.create_task(reporter.pump(stop)), asyncio.create_task(_watch(ctx, sc, stop))]
    try:
        outcome = await _execute(sc)
    except MediaCancelled:
        await release_stage(claim, StageState.CANCELLED)
        await emit(stage.value, "cancelled", reporter.value, "cancelled", "stage")
        return "cancelled"
    except asyncio.CancelledError:
        # The worker is stopping (SIGTERM), not the user: stop the media thread, hand the stage back.
        sc.cancel_event.set()
        await release_stage(claim, StageState.QUEUED)
        raise
    except (MediaError, StageInputError) as ex:
        code = getattr(ex, "code", "MEDIA_ERROR")
        await fail_stage(claim, code, str(ex))
        await emit(stage.value, "failed", reporter.value, f"{code}: {ex}", "stage")
        await emit(None, "failed", 1.0, code, "job")
        await job_finished(ctx, claim.job_id)
        return "failed"
    except (RedisError, OSError, ConnectionError) as ex:
        log.warning("stage %s of job %s hit an infrastructure error, retrying: %s", stage.value, job_id, ex)
        await release_stage(claim, StageState.QUEUED)
        raise Retry(defer=5) from ex
    finally:
        stop.set()
        for task in watchers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        shutil.rmtree(workdir, ignore_errors=True)
    await emit(stage.value, "succeeded", 1.0, "cached" if outcome == "cached" else "", "stage")
    await _advance(ctx, str(claim.job_id))
    return outcome


async def _execute(sc: StageContext) -> str:
    impl = stage_registry.get(sc.claim.stage)
    input_hash = await impl.input_hash(sc)
    if input_hash is not None:
        art = await find_artifact(sc.tenant_id, sc.claim.stage, input_hash)
        if art is not None and await artifact_complete(sc.storage, art):
            await succeed_stage(sc.claim, artifact_id=art.id, cached=True, input_hash=input_hash)
            return "cached"
    out = sc.workdir / "out"
    out.mkdir()
    meta = await impl.run(sc, out)
    if sc.cancelled():
        raise MediaCancelled("job cancelled")
    key_hash = input_hash or f"job-{sc.job_id}"
    prefix = None if input_hash else job_prefix(sc.job_id, sc.claim.stage)
    art = await store_artifact(sc.storage, sc.tenant_id, sc.claim.stage, key_hash, out, prefix=prefix, meta=meta)
    if not await succeed_stage(sc.claim, artifact_id=art.id, cached=False, input_hash=input_hash):
        raise MediaCancelled("the stage was taken back while it ran")
    return "done"


async def _watch(ctx: dict[str, Any], sc: StageContext, stop: asyncio.Event) -> None:
    """Heartbeat (extends the lease) and cancel watcher (reaches the media thread within ~0.3 s)."""
    settings: Settings = ctx["settings"]
    redis = ctx["redis"]
    beat_every = max(1.0, settings.worker.lease_seconds / 4)
    last_beat = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with contextlib.suppress(RedisError, OSError):
            if await redis.exists(cancel_key(sc.job_id)):
                sc.cancel_event.set()
        if loop.time() - last_beat >= beat_every:
            last_beat = loop.time()
            alive = await extend_lease(sc.claim, lease_s=settings.worker.lease_seconds,
                                       progress=sc.reporter.value)
            if not alive or await is_cancelled(sc.job_id):
                sc.cancel_event.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.25)


async def _advance(ctx: dict[str, Any], job_id: str) -> None:
    result = await advance_job(job_id)
    if result is None:
        return
    for stage in result.enqueue:
        await enqueue_stage(job_id, stage, attempt=await _next_attempt(job_id, stage), settings=ctx["settings"])
    if result.enqueue or result.job_state.value in ("succeeded", "waiting_review"):
        emitter = await _job_emitter(ctx, job_id)
        if emitter is not None:
            await emitter(None, result.job_state.value, result.progress, "", "job")
    if result.job_state.value == "succeeded":
        await job_finished(ctx, job_id)


async def _next_attempt(job_id: str, stage: Stage) -> int:
    async with system_tx() as conn:
        run = await StageRun.filter(job_id=job_id, stage=stage).using_db(conn).first()
    return (run.attempt if run else 0) + 1


async def _job_emitter(ctx: dict[str, Any], job_id: str) -> Emitter | None:
    async with system_tx() as conn:
        job = await Job.filter(id=job_id).using_db(conn).first()
    return None if job is None else Emitter(ctx["redis"], job.id, job.project_id)  # type: ignore[attr-defined]


__all__ = ["Claim", "run_stage"]
