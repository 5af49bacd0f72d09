"""Read side of render jobs: one job, a project's jobs (keyset pages), stage runs per job.

    job = await get_job(principal, job_id)
    page = await list_jobs(principal, project_id, first=20, after=None)
    pages = await jobs_by_project(principal, [p1, p2], first=20, after=None)   # one round trip for all
    stages = await stages_by_job(principal, [job.id])
"""

from __future__ import annotations

from uuid import UUID

from app.auth.principal import Principal
from app.db import tenant_tx
from app.errors import NotFoundError
from app.models import Job, Project, Stage, StageRun
from app.services.paging import Page, Position, check_first, keyset_page

# The newest ``first + 1`` jobs of each project after a keyset position, ranked in one scan.
_RANKED = """SELECT id, project_id FROM (
  SELECT id, project_id, row_number() OVER (PARTITION BY project_id ORDER BY created_at DESC, id DESC) AS rn
  FROM jobs WHERE tenant_id = $1 AND project_id = ANY($2::uuid[]) {after}) ranked
WHERE rn <= $3"""


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


async def jobs_by_project(principal: Principal, project_ids: list[UUID], *, first: int,
                          after: Position | None) -> dict[UUID, Page[Job]]:
    """A page of each project's jobs, newest first, in two queries for all projects (for the DataLoader).

    Projects that are not the tenant's get empty pages (callers got their ids from a tenant-scoped read).
    """
    check_first(first)
    values: list[object] = [principal.tenant_id, list(project_ids), first + 1]
    clause = ""
    if after is not None:
        clause = "AND (created_at, id) < ($4, $5)"
        values += list(after)
    async with tenant_tx(principal.tenant_id) as conn:
        _, ranked = await conn.execute_query(_RANKED.format(after=clause), values)
        ids = [row["id"] for row in ranked]
        jobs = await Job.filter(tenant_id=principal.tenant_id, id__in=ids).using_db(conn) if ids else []
    grouped: dict[UUID, list[Job]] = {pid: [] for pid in project_ids}
    for job in sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True):
        grouped.setdefault(job.project_id, []).append(job)  # type: ignore[attr-defined]
    return {pid: Page(rows[:first], len(rows) > first, after is not None) for pid, rows in grouped.items()}


async def stages_by_job(principal: Principal, job_ids: list[UUID]) -> dict[UUID, list[StageRun]]:
    """Stage runs of each job in pipeline order (one query for all; for the DataLoader)."""
    order = {stage: index for index, stage in enumerate(Stage)}
    result: dict[UUID, list[StageRun]] = {jid: [] for jid in job_ids}
    async with tenant_tx(principal.tenant_id) as conn:
        rows = await StageRun.filter(tenant_id=principal.tenant_id, job_id__in=job_ids).using_db(conn)
    for run in sorted(rows, key=lambda r: order.get(r.stage, 99)):
        result.setdefault(run.job_id, []).append(run)  # type: ignore[attr-defined]
    return result
