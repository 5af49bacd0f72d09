"""Runs one stage of one job: claim, cache lookup, work, artifact, success, next stages.

"Jobs may be called more than once": a stage replaces, never appends; it writes its
artifact, THEN marks itself done, then enqueues what is ready next.

Every stage run ends in exactly one outcome, recorded in PostgreSQL and announced:

- ``done`` / ``cached``: succeeded;
- ``failed``: a ``MediaError`` / ``StageInputError`` / ``StorageError`` with its stable code, or any
  other exception as ``STAGE_CRASHED`` with the real message (logged with its traceback and sent to
  Sentry); never retried;
- ``retrying``: a transient error (Redis, PostgreSQL connection, OS/network, storage unavailable):
  the run goes back to QUEUED and a new attempt is enqueued with exponential backoff, up to
  ``worker.max_attempts`` attempts, after which the job fails with ``STAGE_ATTEMPTS_EXHAUSTED`` and
  the last error;
- ``cancelled``: the user cancelled; the run records where the media loop saw it;
- ``lease-lost``: the run is no longer ours (reclaimed after a lost lease): nothing is recorded;
- ``unrecorded``: the outcome could not be written (the database is down): the lease expires and the
  reconciler re-queues the run, which counts as an attempt.

    await run_stage(ctx, job_id, "analyse")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import sentry_sdk
from redis.exceptions import RedisError
from tortoise.exceptions import DBConnectionError

from app.config import Settings, WorkerSettings
from app.db import system_tx
from app.events import cancel_key
from app.models import Job, Stage, StageRun, StageState
from app.queue import enqueue_stage
from app.storage.errors import StorageError, StorageUnavailableError
from media.errors import CancelledError as MediaCancelled
from media.errors import MediaError
from runners import stages as stage_registry
from runners.artifacts import artifact_complete, find_artifact, job_prefix, store_artifact
from runners.context import StageContext, StageInputError
from runners.notify import job_finished
from runners.progress import Emitter, ProgressReporter
from runners.state import (
    AttemptsExhausted,
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

#: A stage that raised something nobody raises on purpose (a bug): failed, not retried, sent to Sentry.
CRASHED = "STAGE_CRASHED"
#: Errors that may heal by themselves: the stage is retried with backoff, within ``max_attempts``.
TRANSIENT: tuple[type[BaseException], ...] = (
    RedisError, OSError, ConnectionError, StorageUnavailableError, DBConnectionError,
    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError)


class LeaseLostError(Exception):
    """The run was taken back (lease expired and reclaimed, or the job ended) while it ran."""


def backoff_s(worker: WorkerSettings, tries: int) -> float:
    """Seconds before retry number ``tries`` (1 = the first retry): exponential, capped, with jitter."""
    base = min(worker.retry_max_seconds, worker.retry_base_seconds * 2.0 ** max(0, tries - 1))
    return base * random.uniform(0.8, 1.2)


async def run_stage(ctx: dict[str, Any], job_id: str, stage_name: str) -> str:
    """ARQ entry point for every stage."""
    settings: Settings = ctx["settings"]
    stage = Stage(stage_name)
    try:
        claim = await claim_stage(job_id, stage, lease_s=settings.worker.lease_seconds,
                                  max_attempts=settings.worker.max_attempts)
    except AttemptsExhausted as ex:
        emit = await _job_emitter(ctx, job_id)
        if emit is not None:
            await _announce_failure(ctx, emit, stage, job_id, ex.code, str(ex))
        return "failed"
    if claim is None:
        await _advance(ctx, job_id)  # maybe a duplicate message for finished work: keep the job moving
        return "skipped"
    emit = Emitter(ctx["redis"], claim.job_id, claim.project_id)
    try:
        await emit(stage.value, "running", 0.0, f"attempt {claim.attempt}", "stage")
    except asyncio.CancelledError:  # SIGTERM between the claim and the work: hand the stage back at once
        with contextlib.suppress(*TRANSIENT):
            await release_stage(claim, StageState.QUEUED, code="WORKER_STOPPED",
                                message="the worker stopped; the stage goes back to the queue")
        raise
    workdir = Path(tempfile.mkdtemp(prefix=f"recap-{stage.value}-", dir=ctx.get("workroot")))
    reporter = ProgressReporter(emit, stage.value)
    sc = StageContext(claim, settings, ctx["storage"], ctx["models"], workdir, reporter)
    stop = asyncio.Event()
    watchers = [asyncio.create_task(reporter.pump(stop)), asyncio.create_task(_watch(ctx, sc, stop))]
    try:
        outcome = await _execute(sc)
    except asyncio.CancelledError:
        # The worker is stopping (SIGTERM), not the user: stop the media thread, hand the stage back.
        sc.cancel_event.set()
        with contextlib.suppress(*TRANSIENT):
            await release_stage(claim, StageState.QUEUED, code="WORKER_STOPPED",
                                message="the worker stopped; the stage goes back to the queue")
        raise
    except Exception as ex:  # every outcome is recorded: see the module docstring
        try:
            return await _on_error(ctx, sc, emit, ex)
        except TRANSIENT as rec:
            log.error("stage %s of job %s: could not record its outcome (%s: %s); the reconciler re-queues it "
                      "when its lease expires", stage.value, claim.job_id, type(rec).__name__, rec)
            return "unrecorded"
    finally:
        stop.set()
        await _stop_watchers(watchers, sc)
        shutil.rmtree(workdir, ignore_errors=True)
    await emit(stage.value, "succeeded", 1.0, "cached" if outcome == "cached" else "", "stage")
    await _advance(ctx, str(claim.job_id))
    return outcome


async def _stop_watchers(watchers: list[asyncio.Task[None]], sc: StageContext) -> None:
    for task in watchers:
        task.cancel()
    for task in watchers:
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as ex:  # a watcher that died early: say so, it may explain a lost lease
            log.error("stage %s of job %s: a watcher failed: %s: %s", sc.claim.stage.value, sc.job_id,
                      type(ex).__name__, ex, exc_info=ex)


async def _on_error(ctx: dict[str, Any], sc: StageContext, emit: Emitter, ex: Exception) -> str:
    claim, stage = sc.claim, sc.claim.stage.value
    if isinstance(ex, LeaseLostError):
        log.warning("stage %s of job %s: %s; stopping without recording", stage, claim.job_id, ex)
        return "lease-lost"
    if isinstance(ex, MediaCancelled):
        if await release_stage(claim, StageState.CANCELLED, code="CANCELLED", message=f"{ex}; {sc.cancel_report()}"):
            await emit(stage, "cancelled", sc.reporter.value, "cancelled", "stage")
        return "cancelled"
    if isinstance(ex, MediaError | StageInputError):
        return await _fail(ctx, sc, emit, getattr(ex, "code", "MEDIA_ERROR"), str(ex))
    message = f"{type(ex).__name__}: {ex}"
    if isinstance(ex, TRANSIENT):
        return await _retry_later(ctx, sc, emit, message)
    if isinstance(ex, StorageError):
        log.error("stage %s of job %s: storage error %s", stage, claim.job_id, message)
        return await _fail(ctx, sc, emit, ex.code, message)
    log.error("stage %s of job %s crashed: %s", stage, claim.job_id, message, exc_info=ex)
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("job_id", str(claim.job_id))
        scope.set_tag("stage", stage)
        scope.set_tag("tenant_id", str(claim.tenant_id))
        scope.capture_exception(ex)
    return await _fail(ctx, sc, emit, CRASHED, message)


async def _retry_later(ctx: dict[str, Any], sc: StageContext, emit: Emitter, message: str) -> str:
    settings: Settings = ctx["settings"]
    claim = sc.claim
    if claim.tries >= settings.worker.max_attempts:
        text = f"stage {claim.stage.value} used up its {claim.tries} attempts; last error: {message}"
        log.error("job %s: %s", claim.job_id, text)
        return await _fail(ctx, sc, emit, "STAGE_ATTEMPTS_EXHAUSTED", text)
    delay = backoff_s(settings.worker, claim.tries)
    log.warning("stage %s of job %s hit a transient error (attempt %d of %d), retrying in %.1f s: %s",
                claim.stage.value, claim.job_id, claim.tries, settings.worker.max_attempts, delay, message)
    if not await release_stage(claim, StageState.QUEUED, code="TRANSIENT_ERROR", message=message):
        return "lease-lost"
    # If this enqueue fails too, the reconciler re-queues the QUEUED run (it nudges every 15 s).
    with contextlib.suppress(*TRANSIENT):
        await enqueue_stage(claim.job_id, claim.stage, attempt=claim.attempt + 1, defer_s=delay, settings=settings)
    await emit(claim.stage.value, "retrying", sc.reporter.value, f"retry in {delay:.0f} s: {message}"[:500], "stage")
    return "retrying"


async def _fail(ctx: dict[str, Any], sc: StageContext, emit: Emitter, code: str, message: str) -> str:
    if not await fail_stage(sc.claim, code, message):
        return "lease-lost"
    await _announce_failure(ctx, emit, sc.claim.stage, sc.claim.job_id, code, message)
    return "failed"


async def _announce_failure(ctx: dict[str, Any], emit: Emitter, stage: Stage, job_id: Any, code: str,
                            message: str) -> None:
    await emit(stage.value, "failed", 0.0, f"{code}: {message}"[:2000], "stage")
    await emit(None, "failed", 1.0, code, "job")
    await job_finished(ctx, job_id)


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
    if sc.cancel_event.is_set():
        raise MediaCancelled("job cancelled after the stage's work finished")
    key_hash = input_hash or f"job-{sc.job_id}"
    prefix = None if input_hash else job_prefix(sc.job_id, sc.claim.stage)
    art = await store_artifact(sc.storage, sc.tenant_id, sc.claim.stage, key_hash, out, prefix=prefix, meta=meta)
    if not await succeed_stage(sc.claim, artifact_id=art.id, cached=False, input_hash=input_hash):
        raise LeaseLostError("the stage was taken back while it ran")
    return "done"


async def _watch(ctx: dict[str, Any], sc: StageContext, stop: asyncio.Event) -> None:
    """Heartbeat (extends the lease) and cancel watcher (reaches the media thread within ~0.3 s).

    Redis or PostgreSQL blips are logged (once per outage) and retried on the next tick: the lease is
    only lost when it really expires. A lost lease stops the media work.
    """
    settings: Settings = ctx["settings"]
    redis = ctx["redis"]
    beat_every = max(1.0, settings.worker.lease_seconds / 4)
    last_beat = 0.0
    loop = asyncio.get_running_loop()
    failing: set[str] = set()

    def trouble(what: str, ex: BaseException | None) -> None:
        if ex is None:
            if what in failing:
                failing.discard(what)
                log.info("stage %s of job %s: %s works again", sc.claim.stage.value, sc.job_id, what)
        elif what not in failing:
            failing.add(what)
            log.warning("stage %s of job %s: %s failed (%s: %s); retrying", sc.claim.stage.value, sc.job_id,
                        what, type(ex).__name__, ex)

    while not stop.is_set():
        try:
            if await redis.exists(cancel_key(sc.job_id)):
                sc.cancel_event.set()
            trouble("the cancel check", None)
        except TRANSIENT as ex:
            trouble("the cancel check", ex)
        if loop.time() - last_beat >= beat_every:
            try:
                alive = await extend_lease(sc.claim, lease_s=settings.worker.lease_seconds,
                                           progress=sc.reporter.value)
                last_beat = loop.time()
                if not alive or await is_cancelled(sc.job_id):
                    sc.cancel_event.set()
                trouble("the heartbeat", None)
            except TRANSIENT as ex:
                trouble("the heartbeat", ex)
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
