"""The reconciler (an ARQ cron): re-enqueues work whose worker died or whose message was lost.

- a RUNNING stage whose lease expired (worker killed) goes back to the queue, up to
  ``max_attempts``; after that the job fails with ``STAGE_ATTEMPTS_EXHAUSTED``;
- every QUEUED stage of an active job is enqueued again under its deterministic id
  ``{job}:{stage}:{attempt}``: ARQ refuses the duplicate while the message still exists,
  so only a message that was lost (Redis restarted without persistence) is queued anew.
"""

from __future__ import annotations

import logging
from typing import Any

from app.db import system_tx
from app.models import Job, JobState, StageRun, StageState
from app.queue import enqueue_stage
from runners.state import now

log = logging.getLogger(__name__)


async def reconcile(ctx: dict[str, Any]) -> dict[str, int]:
    settings = ctx["settings"]
    counts = {"requeued": 0, "failed": 0, "nudged": 0}
    async with system_tx() as conn:
        expired = await StageRun.filter(state=StageState.RUNNING, lease_expires_at__lt=now()).using_db(conn)
        for run in expired:
            job = await Job.filter(id=run.job_id).using_db(conn).select_for_update().first()  # type: ignore[attr-defined]
            if job is None or job.state not in (JobState.RUNNING, JobState.QUEUED):
                continue
            if run.attempt - run.attempts_before >= settings.worker.max_attempts:
                run.state, run.error_code = StageState.FAILED, "STAGE_ATTEMPTS_EXHAUSTED"
                run.error_message = (f"the stage's worker stopped {run.attempt - run.attempts_before} times "
                                     "without finishing it (killed or lost its lease)")
                job.state, job.error_code, job.error_message = JobState.FAILED, run.error_code, run.error_message
                job.finished_at = now()
                await job.save(using_db=conn)
                counts["failed"] += 1
            else:
                run.state = StageState.QUEUED
                counts["requeued"] += 1
            run.lease_expires_at = None
            await run.save(using_db=conn)
        queued = await StageRun.filter(state=StageState.QUEUED).using_db(conn)
        active = {j.id for j in await Job.filter(id__in=[r.job_id for r in queued],  # type: ignore[attr-defined]
                                                  state__in=[JobState.RUNNING, JobState.QUEUED]).using_db(conn)}
    for run in queued:
        if run.job_id in active:  # type: ignore[attr-defined]
            await enqueue_stage(run.job_id, run.stage, attempt=run.attempt + 1, settings=settings)  # type: ignore[attr-defined]
            counts["nudged"] += 1
    if counts["requeued"] or counts["failed"]:
        log.info("reconciler: %s", counts)
    return counts
