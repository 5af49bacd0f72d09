"""Read side of render jobs: one job, a project's jobs (keyset pages), stage runs per job.

    job = await get_job(principal, job_id)
    page = await list_jobs(principal, project_id, first=20, after=None)
    stages = await stages_by_job(principal, [job.id])
"""

from __future__ import annotations

from uuid import UUID

from app.auth.principal import Principal
from app.db import tenant_tx
from app.errors import NotFoundError
from app.models import Job, Project, Stage, StageRun
from app.services.paging import Page, Position, keyset_page


async def get_job(principal: Principal, job_id: UUID) -> Job:
    """The job, or NotFoundError (also for another tenant's id)."""
    async with tenant_tx(principal.tenant_id) as conn:
        job = await Job.filter(id=job_id, tenant_id=principal.tenant_id).using_db(conn).first()
    if job is None:
        raise NotFoundError("job not found", "id")
    return job


async def list_jobs(principal: Principal, project_id: UUID, *, first: int, after: Position | None) -> Page[Job]:
    """A page of the project's jobs, newest first; NotFoundError when the project is not the tenant's."""
    async with tenant_tx(principal.tenant_id) as conn:
        if not await Project.filter(id=project_id, tenant_id=principal.tenant_id).using_db(conn).exists():
            raise NotFoundError("project not found", "projectId")
        query = Job.filter(tenant_id=principal.tenant_id, project_id=project_id).using_db(conn)
        return await keyset_page(query, first=first, after=after)


async def stages_by_job(principal: Principal, job_ids: list[UUID]) -> dict[UUID, list[StageRun]]:
    """Stage runs of each job in pipeline order (one query for all; for the DataLoader)."""
    order = {stage: index for index, stage in enumerate(Stage)}
    result: dict[UUID, list[StageRun]] = {jid: [] for jid in job_ids}
    async with tenant_tx(principal.tenant_id) as conn:
        rows = await StageRun.filter(tenant_id=principal.tenant_id, job_id__in=job_ids).using_db(conn)
    for run in sorted(rows, key=lambda r: order.get(r.stage, 99)):
        result.setdefault(run.job_id, []).append(run)  # type: ignore[attr-defined]
    return result
