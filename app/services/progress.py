"""Live job progress for subscribers: a snapshot from PostgreSQL, then Redis events, deduplicated by ``seq``.

The subscriber starts listening BEFORE it reads the snapshot, so nothing published in
between is lost; events at or below the snapshot's ``seq`` are dropped. When the event
stream reconnects (Redis restarted) a fresh snapshot is sent.

    async for event, stages in job_events(principal, job_id, redis_url): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.db import tenant_tx
from app.errors import NotFoundError
from app.events import RESYNC, ProgressEvent, get_hub, job_channel, project_channel, resync_event
from app.models import Job, Project, StageRun
from app.models.enums import ACTIVE_JOB_STATES, TERMINAL_JOB_STATES
from app.pipeline import ORDER

TERMINAL = {s.value for s in TERMINAL_JOB_STATES}


async def snapshot(principal: Principal, job_id: UUID) -> tuple[ProgressEvent, list[dict[str, Any]]]:
    async with tenant_tx(principal.tenant_id):
        job = await Job.filter(id=job_id, tenant_id=principal.tenant_id).first()
        if job is None:
            raise NotFoundError("job not found", "jobId")
        runs = await StageRun.filter(job_id=job.id)
    order = {s: i for i, s in enumerate(ORDER)}
    stages = [{"stage": r.stage.value, "state": r.state.value, "progress": r.progress, "attempt": r.attempt,
               "cached": r.cached, "errorCode": r.error_code} for r in sorted(runs, key=lambda r: order[r.stage])]
    event = ProgressEvent(str(job.id), str(job.project_id), job.seq, job.current_stage.value if job.current_stage  # type: ignore[attr-defined]
                          else None, job.state.value, job.progress, job.error_code or "", "snapshot")
    return event, stages


async def job_events(principal: Principal, job_id: UUID, redis_url: str
                     ) -> AsyncIterator[tuple[ProgressEvent, list[dict[str, Any]] | None]]:
    """Snapshot first, then live events with a higher ``seq``; ends when the job ends."""
    await snapshot(principal, job_id)  # authorise before listening
    async with get_hub(redis_url).listen(job_channel(job_id)) as queue:
        event, stages = await snapshot(principal, job_id)
        floor, seen = event.seq, set[int]()
        yield event, stages
        if event.state in TERMINAL:
            return
        while True:
            incoming = await queue.get()
            if incoming.kind == RESYNC:
                event, stages = await snapshot(principal, job_id)
                yield event, stages
                if event.state in TERMINAL:
                    return
                continue
            # Two emitters may publish seq n+1 before n: drop only what was already delivered.
            if incoming.seq <= floor or incoming.seq in seen:
                continue
            seen.add(incoming.seq)
            while floor + 1 in seen:
                floor += 1
                seen.discard(floor)
            yield incoming, None
            if incoming.kind in ("job", "snapshot") and incoming.state in TERMINAL:
                return


async def _project_snapshots(principal: Principal, project_id: UUID
                             ) -> list[tuple[ProgressEvent, list[dict[str, Any]]]]:
    async with tenant_tx(principal.tenant_id):
        active = await Job.filter(project_id=project_id, state__in=list(ACTIVE_JOB_STATES)).values_list(
            "id", flat=True)
    return [await snapshot(principal, job_id) for job_id in active]  # type: ignore[arg-type]


async def project_events(principal: Principal, project_id: UUID, redis_url: str
                         ) -> AsyncIterator[tuple[ProgressEvent, list[dict[str, Any]] | None]]:
    """Snapshots of the project's active jobs, then every event of the project's jobs.

    When the event stream reconnects (events may have been lost) the subscriber gets a ``resync``
    marker for the project, then fresh snapshots of its active jobs.
    """
    async with tenant_tx(principal.tenant_id):
        project = await Project.filter(id=project_id, tenant_id=principal.tenant_id).first()
        if project is None:
            raise NotFoundError("project not found", "projectId")
    async with get_hub(redis_url).listen(project_channel(project_id)) as queue:
        floor: dict[str, int] = {}
        for event, stages in await _project_snapshots(principal, project_id):
            floor[event.job_id] = event.seq
            yield event, stages
        delivered: set[tuple[str, int]] = set()
        while True:
            incoming = await queue.get()
            if incoming.kind == RESYNC:
                yield resync_event(project_id=str(project_id)), None
                for event, stages in await _project_snapshots(principal, project_id):
                    floor[event.job_id] = max(floor.get(event.job_id, 0), event.seq)
                    yield event, stages
                continue
            key = (incoming.job_id, incoming.seq)
            if incoming.seq <= floor.get(incoming.job_id, 0) or key in delivered:
                continue
            delivered.add(key)
            if len(delivered) > 10_000:
                delivered.clear()
            yield incoming, None
