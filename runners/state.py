"""Job and stage state transitions in PostgreSQL (the source of truth).

Every transition runs in one transaction with the job row locked, so two workers that
got the same ARQ message cannot both run a stage: the second finds a live lease.

    claim = await claim_stage(job_id, Stage.ALIGN, lease_s=120)
    if claim: ...; await succeed_stage(claim, artifact_id=..., cached=False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.db import system_tx
from app.models import Job, JobState, Stage, StageRun, StageState
from app.models.enums import TERMINAL_JOB_STATES
from app.pipeline import DONE, is_complete, job_progress, next_stages

REVIEW_GATE = Stage.ASSEMBLE


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Claim:
    job_id: UUID
    tenant_id: UUID
    project_id: UUID
    run_id: UUID
    stage: Stage
    attempt: int
    options: dict[str, Any]
    #: Attempts before this run's budget began (retryJob): ``attempt - attempts_before`` is the try number.
    attempts_before: int = 0

    @property
    def tries(self) -> int:
        return self.attempt - self.attempts_before


async def _lock_job(conn: Any, job_id: UUID | str) -> Job | None:
    return await Job.filter(id=job_id).using_db(conn).select_for_update().first()


#: The job failed because a stage used up its attempts (the worker died or hit transient errors each time).
ATTEMPTS_EXHAUSTED = "STAGE_ATTEMPTS_EXHAUSTED"


class AttemptsExhausted(Exception):
    """``claim_stage`` found the stage's attempts used up: it failed the job (the caller announces it)."""

    code = ATTEMPTS_EXHAUSTED


async def claim_stage(job_id: UUID | str, stage: Stage, *, lease_s: float, max_attempts: int | None = None
                      ) -> Claim | None:
    """Take a stage for this worker; None when it is done, held by a live lease, or the job ended.

    With ``max_attempts``, a claim that would start attempt ``max_attempts + 1`` fails the stage and the
    job instead (``STAGE_ATTEMPTS_EXHAUSTED``) and raises :class:`AttemptsExhausted`.
    """
    async with system_tx() as conn:
        job = await _lock_job(conn, job_id)
        if job is None or job.state in TERMINAL_JOB_STATES:
            return None
        run = await StageRun.filter(job_id=job.id, stage=stage).using_db(conn).select_for_update().first()
        if run is None or run.state in DONE or run.state in (StageState.FAILED, StageState.CANCELLED):
            return None
        if run.state is StageState.RUNNING and run.lease_expires_at and run.lease_expires_at > now():
            return None
        if max_attempts is None or run.attempt - run.attempts_before < max_attempts:
            return await _take(conn, job, run, stage, lease_s)
        last = f"; last error: {run.error_code}: {run.error_message}" if run.error_code else ""
        message = f"stage {stage.value} used up its {max_attempts} attempts{last}"
        run.state, run.error_code, run.error_message = StageState.FAILED, ATTEMPTS_EXHAUSTED, message[:4000]
        run.finished_at, run.lease_expires_at = now(), None
        await run.save(using_db=conn)
        job.state, job.error_code, job.error_message = JobState.FAILED, ATTEMPTS_EXHAUSTED, message[:4000]
        job.finished_at = now()
        await job.save(using_db=conn)
    raise AttemptsExhausted(message)  # after the commit: the failure is recorded


async def _take(conn: Any, job: Job, run: StageRun, stage: Stage, lease_s: float) -> Claim:
    """Start the next attempt of ``run`` under a fresh lease (inside the caller's transaction)."""
    run.state = StageState.RUNNING
    run.attempt += 1
    run.lease_expires_at = now() + timedelta(seconds=lease_s)
    run.started_at = now()
    run.error_code = None  # type: ignore[assignment]
    run.error_message = None  # type: ignore[assignment]
    await run.save(using_db=conn)
    if job.state is JobState.QUEUED:
        job.state = JobState.RUNNING
        job.started_at = job.started_at or now()
    job.current_stage = stage
    await job.save(using_db=conn)
    return Claim(job.id, job.tenant_id, job.project_id, run.id, stage, run.attempt,  # type: ignore[attr-defined]
                 dict(job.options), run.attempts_before)


async def extend_lease(claim: Claim, *, lease_s: float, progress: float | None = None, message: str | None = None
                       ) -> bool:
    """Heartbeat: False when the run is no longer ours (cancelled, failed, reclaimed)."""
    values: dict[str, Any] = {"lease_expires_at": now() + timedelta(seconds=lease_s)}
    if progress is not None:
        values["progress"] = progress
    if message is not None:
        values["message"] = message[:2000]
    async with system_tx() as conn:
        updated = await StageRun.filter(id=claim.run_id, state=StageState.RUNNING, attempt=claim.attempt
                                        ).using_db(conn).update(**values)
    return bool(updated)


async def is_cancelled(job_id: UUID | str) -> bool:
    async with system_tx() as conn:
        job = await Job.filter(id=job_id).using_db(conn).first()
    return job is None or job.state in (JobState.CANCELLED, JobState.FAILED)


async def succeed_stage(claim: Claim, *, artifact_id: UUID | None, cached: bool, input_hash: str | None) -> bool:
    async with system_tx() as conn:
        await _lock_job(conn, claim.job_id)
        updated = await StageRun.filter(id=claim.run_id, state=StageState.RUNNING, attempt=claim.attempt
                                        ).using_db(conn).update(
            state=StageState.SUCCEEDED, progress=1.0, finished_at=now(), lease_expires_at=None,
            artifact_id=artifact_id, cached=cached, input_hash=input_hash)
    return bool(updated)


async def fail_stage(claim: Claim, code: str, message: str) -> bool:
    """Fail the run and its job; False when the run is no longer this claim's (nothing changed)."""
    async with system_tx() as conn:
        job = await _lock_job(conn, claim.job_id)
        updated = await StageRun.filter(id=claim.run_id, state=StageState.RUNNING, attempt=claim.attempt
                                        ).using_db(conn).update(
            state=StageState.FAILED, finished_at=now(), lease_expires_at=None, error_code=code,
            error_message=message[:4000])
        if not updated:
            return False
        if job is not None and job.state not in TERMINAL_JOB_STATES:
            job.state, job.error_code, job.error_message = JobState.FAILED, code, message[:4000]
            job.finished_at = now()
            await job.save(using_db=conn)
    return True


async def release_stage(claim: Claim, state: StageState, *, code: str | None = None,
                        message: str | None = None) -> bool:
    """Give a run back without success: CANCELLED, or QUEUED for a retry (``code``/``message`` say why).

    False when the run is no longer this claim's (reclaimed after a lost lease, failed, cancelled).
    """
    # cancelJob marks the runs CANCELLED itself; the worker then records where the work stopped.
    held = [StageState.RUNNING, StageState.CANCELLED] if state is StageState.CANCELLED else [StageState.RUNNING]
    async with system_tx() as conn:
        updated = await StageRun.filter(id=claim.run_id, state__in=held, attempt=claim.attempt
                                        ).using_db(conn).update(
            state=state, lease_expires_at=None, finished_at=now() if state is StageState.CANCELLED else None,
            error_code=code, error_message=(message or "")[:4000] or None)
    return bool(updated)


@dataclass(frozen=True, slots=True)
class Advance:
    enqueue: list[Stage]
    job_state: JobState
    progress: float


async def advance_job(job_id: UUID | str) -> Advance | None:
    """Mark the next ready stages QUEUED (the caller enqueues them) or finish the job."""
    async with system_tx() as conn:
        job = await _lock_job(conn, job_id)
        if job is None or job.state in TERMINAL_JOB_STATES:
            return None
        runs = await StageRun.filter(job_id=job.id).using_db(conn)
        states = {r.stage: r.state for r in runs}
        ready = next_stages(states)
        if REVIEW_GATE in ready and job.options.get("review") and not job.options.get("approved"):
            ready.remove(REVIEW_GATE)
            if not any(states[s] in (StageState.RUNNING, StageState.QUEUED) for s in states):
                job.state = JobState.WAITING_REVIEW
        if ready:
            await StageRun.filter(job_id=job.id, stage__in=ready).using_db(conn).update(state=StageState.QUEUED)
            job.state = JobState.RUNNING
        if is_complete(states):
            job.state, job.finished_at = JobState.SUCCEEDED, now()
            job.current_stage = None  # type: ignore[assignment]
        job.progress = 1.0 if job.state is JobState.SUCCEEDED else job_progress(
            states, {r.stage: r.progress for r in runs})
        await job.save(using_db=conn)
        return Advance(ready, job.state, job.progress)


async def next_seq(job_id: UUID | str) -> int:
    """Allocate the job's next event number (monotonic, in Postgres)."""
    async with system_tx() as conn:
        rows = await conn.execute_query_dict(
            "UPDATE jobs SET seq = seq + 1 WHERE id = $1 RETURNING seq", [str(job_id)])
    return int(rows[0]["seq"]) if rows else 0
