"""Every stage outcome is honest: failed with a stable code and the real message, retried within
``max_attempts`` with backoff, or cancelled; never left RUNNING, never retried forever.

Faults are injected by replacing one stage's ``run`` (the worker, PostgreSQL, Redis and the queue are real).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest
import redis.asyncio as aioredis
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from app.config import Settings
from app.db import system_tx
from app.models import Job, JobState, Role, Stage, StageRun, StageState
from app.queue import enqueue_stage
from app.services import render
from app.storage.errors import ObjectNotFoundError
from media.errors import MediaError
from runners import stages as stage_registry
from runners.context import StageContext
from runners.executor import _watch, backoff_s
from runners.progress import ProgressReporter
from runners.state import claim_stage

pytestmark = pytest.mark.allow_error_logs


async def runs(job_id: Any) -> dict[Stage, StageRun]:
    async with system_tx():
        return {r.stage: r for r in await StageRun.filter(job_id=job_id)}


async def job_row(job_id: Any) -> Job:
    async with system_tx():
        return await Job.get(id=job_id)


@pytest.fixture
async def new_job(settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any) -> Any:
    async def make() -> tuple[Any, Any]:
        principal, _ = await principal_factory(Role.EDITOR)
        project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
        job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
        return principal, job
    return make


def fail_ingest_with(monkeypatch: pytest.MonkeyPatch, *errors: BaseException) -> list[int]:
    """Ingest raises ``errors`` in turn (the last one for ever); returns the list of calls made."""
    calls: list[int] = []

    async def run(sc: StageContext, out: Path) -> dict[str, Any]:
        calls.append(sc.claim.attempt)
        raise errors[min(len(calls), len(errors)) - 1]

    monkeypatch.setattr(stage_registry.get(Stage.INGEST), "run", run)
    return calls


class CapturedEvents(Transport):
    events: ClassVar[list[dict[str, Any]]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event" and item.payload.json:
                self.events.append(item.payload.json)


@pytest.fixture
def sentry_events() -> Any:
    CapturedEvents.events = []
    client = sentry_sdk.Client(dsn="http://public@127.0.0.1:9/1", transport=CapturedEvents, default_integrations=False)
    scope = sentry_sdk.get_global_scope()
    previous = scope.client
    scope.set_client(client)
    try:
        yield CapturedEvents.events
    finally:
        scope.set_client(previous)


async def test_a_bug_in_a_stage_fails_it_with_the_real_message_at_once_and_reaches_sentry(
        new_job: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch, sentry_events: list[dict[str, Any]]) -> None:
    calls = fail_ingest_with(monkeypatch, KeyError("frame_index_9f3"))
    _, job = await new_job()
    await run_worker()
    ingest = (await runs(job.id))[Stage.INGEST]
    assert ingest.state is StageState.FAILED and ingest.lease_expires_at is None
    assert ingest.error_code == "STAGE_CRASHED"
    assert "KeyError" in (ingest.error_message or "") and "frame_index_9f3" in (ingest.error_message or "")
    done = await job_row(job.id)
    assert (done.state, done.error_code) == (JobState.FAILED, "STAGE_CRASHED")
    assert calls == [1]  # a bug is not retried
    assert len(sentry_events) == 1
    tags = sentry_events[0]["tags"]
    assert tags["job_id"] == str(job.id) and tags["stage"] == "ingest"


async def test_a_storage_error_fails_with_the_storage_code(
        new_job: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch, sentry_events: list[dict[str, Any]]) -> None:
    fail_ingest_with(monkeypatch, ObjectNotFoundError("inputs/x/y.mp4 is gone"))
    _, job = await new_job()
    await run_worker()
    done = await job_row(job.id)
    assert (done.state, done.error_code) == (JobState.FAILED, "STORAGE_NOT_FOUND")
    assert "inputs/x/y.mp4 is gone" in (done.error_message or "")
    assert sentry_events == []  # an error raised on purpose is not a crash


async def test_a_transient_error_is_retried_with_backoff_then_fails_with_the_last_error(
        new_job: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls = fail_ingest_with(monkeypatch, ConnectionResetError("peer reset (try 1)"), OSError("disk hiccup (try 2)"),
                             TimeoutError("nfs timeout (last)"))
    _, job = await new_job()
    await run_worker(worker=settings.worker.model_copy(update={"max_attempts": 3, "retry_base_seconds": 0.0}))
    ingest = (await runs(job.id))[Stage.INGEST]
    assert calls == [1, 2, 3]  # exactly max_attempts tries, not 1000
    assert ingest.state is StageState.FAILED and ingest.error_code == "STAGE_ATTEMPTS_EXHAUSTED"
    assert "used up its 3 attempts" in (ingest.error_message or "")
    assert "nfs timeout (last)" in (ingest.error_message or "")  # the real last error, not "the worker stopped"
    assert (await job_row(job.id)).error_code == "STAGE_ATTEMPTS_EXHAUSTED"


async def test_a_transient_error_that_heals_continues_the_job(
        new_job: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    impl = stage_registry.get(Stage.INGEST)
    real_run = impl.run
    calls: list[int] = []

    async def flaky(sc: StageContext, out: Path) -> dict[str, Any]:
        calls.append(sc.claim.attempt)
        if len(calls) == 1:
            raise ConnectionRefusedError("storage node restarting")
        return await real_run(sc, out)

    async def stop_after(sc: StageContext, out: Path) -> dict[str, Any]:
        raise MediaError("stop here: the test only needs ingest", code="TEST_STOP")

    monkeypatch.setattr(impl, "run", flaky)
    monkeypatch.setattr(stage_registry.get(Stage.ANALYSE), "run", stop_after)
    monkeypatch.setattr(stage_registry.get(Stage.TRANSCRIBE), "run", stop_after)
    _, job = await new_job()
    await run_worker(worker=settings.worker.model_copy(update={"retry_base_seconds": 0.0}))
    ingest = (await runs(job.id))[Stage.INGEST]
    assert calls == [1, 2]
    assert ingest.state is StageState.SUCCEEDED and ingest.attempt == 2 and ingest.error_code is None
    assert (await job_row(job.id)).error_code == "TEST_STOP"


async def test_a_claim_past_the_attempt_limit_fails_the_job_without_running(
        new_job: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls = fail_ingest_with(monkeypatch, MediaError("must not run", code="NOT_EXPECTED"))
    _, job = await new_job()
    async with system_tx():  # three workers died on it already (the reconciler re-queued it each time)
        await StageRun.filter(job_id=job.id, stage=Stage.INGEST).update(attempt=settings.worker.max_attempts,
                                                                        error_code="WORKER_STOPPED")
    await enqueue_stage(job.id, Stage.INGEST, attempt=settings.worker.max_attempts + 1, settings=settings)
    await run_worker()
    assert calls == []
    ingest = (await runs(job.id))[Stage.INGEST]
    assert ingest.state is StageState.FAILED and ingest.error_code == "STAGE_ATTEMPTS_EXHAUSTED"
    assert "WORKER_STOPPED" in (ingest.error_message or "")
    assert (await job_row(job.id)).state is JobState.FAILED


async def test_retry_job_after_exhaustion_starts_a_fresh_attempt_budget(
        new_job: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls = fail_ingest_with(monkeypatch, OSError("flaky"))
    principal, job = await new_job()
    fast = settings.worker.model_copy(update={"max_attempts": 2, "retry_base_seconds": 0.0})
    await run_worker(worker=fast)
    assert calls == [1, 2]
    await render.retry_job(principal, job.id, settings)
    await run_worker(worker=fast)
    assert calls == [1, 2, 3, 4]  # attempt numbers keep counting (unique queue ids), the budget is new
    assert (await job_row(job.id)).error_code == "STAGE_ATTEMPTS_EXHAUSTED"


def test_backoff_grows_exponentially_and_is_capped(settings: Settings) -> None:
    worker = settings.worker.model_copy(update={"retry_base_seconds": 2.0, "retry_max_seconds": 30.0})
    delays = [backoff_s(worker, n) for n in (1, 2, 3, 4, 10)]
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8 and 6.4 <= delays[2] <= 9.6
    assert 24.0 <= delays[4] <= 36.0


async def test_the_watcher_logs_a_redis_outage_once_and_keeps_the_lease(
        new_job: Any, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    _, job = await new_job()
    claim = await claim_stage(job.id, Stage.INGEST, lease_s=30)
    assert claim is not None

    async def no_emit(*_: Any) -> None:
        return None

    sc = StageContext(claim, settings, None, None, Path("."), ProgressReporter(no_emit, "ingest"))  # type: ignore[arg-type]
    dead = aioredis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)  # nothing listens on port 9
    stop = asyncio.Event()
    fast = settings.model_copy(update={"worker": settings.worker.model_copy(update={"lease_seconds": 5})})
    with caplog.at_level(logging.WARNING, logger="runners.executor"):
        task = asyncio.create_task(_watch({"settings": fast, "redis": dead}, sc, stop))
        await asyncio.sleep(2.5)
        stop.set()
        await asyncio.wait_for(task, 5)  # it did not die on the outage
    await dead.aclose()
    outage = [r for r in caplog.records if "the cancel check failed" in r.getMessage()]
    assert len(outage) == 1  # said once per outage, not every tick, and not swallowed
    ingest = (await runs(job.id))[Stage.INGEST]
    assert ingest.state is StageState.RUNNING and ingest.lease_expires_at is not None  # heartbeats went on
    assert not sc.cancel_event.is_set()
