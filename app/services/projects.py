"""Projects and their assets, scoped to the caller's tenant.

Roles: viewers read; editors create, update and delete jobs and assets; admins (and owners) delete
projects. Deleting removes the stored files too (see :mod:`app.services.deletion`). Creating a project is
refused with QuotaExceededError once the tenant's stored bytes reach its storage limit.

    project = await create_project(principal, "Season 1 recap", "", quota=settings.quota)
    page = await list_projects(principal, first=20, after=None, search="season")
    assets = await assets_by_project(principal, [project.id])
"""

from __future__ import annotations

from uuid import UUID

from app.auth.principal import Principal
from app.config import QuotaDefaults, Settings, get_settings
from app.db import tenant_tx
from app.errors import NotFoundError, QuotaExceededError, ValidationError
from app.models import Asset, Job, Project, Role
from app.models.enums import ACTIVE_JOB_STATES
from app.services import audit, deletion, quota
from app.services.paging import Page, Position, keyset_page
from app.services.text import clean_name, clean_text

MAX_SEARCH = 200


async def get_project(principal: Principal, project_id: UUID) -> Project:
    """The project, or NotFoundError (also for another tenant's id)."""
    async with tenant_tx(principal.tenant_id) as conn:
        project = await Project.filter(id=project_id, tenant_id=principal.tenant_id).using_db(conn).first()
    if project is None:
        raise NotFoundError("project not found", "id")
    return project


async def list_projects(principal: Principal, *, first: int, after: Position | None,
                        search: str | None = None) -> Page[Project]:
    """A page of the tenant's projects, newest first; ``search`` matches names case-insensitively."""
    async with tenant_tx(principal.tenant_id) as conn:
        query = Project.filter(tenant_id=principal.tenant_id).using_db(conn)
        if search:
            term = clean_name(search, field="search", max_length=MAX_SEARCH)
            query = query.filter(name__icontains=term)
        return await keyset_page(query, first=first, after=after)


async def create_project(principal: Principal, name: str, description: str = "", *,
                         quota_defaults: QuotaDefaults | None = None) -> Project:
    """Create a project (editors+).

    Raises:
        ValidationError: bad name/description. QuotaExceededError: storage limit reached.
    """
    principal.require(Role.EDITOR)
    clean = clean_name(name, field="name")
    text = clean_text(description, field="description")
    async with tenant_tx(principal.tenant_id) as conn:
        await quota.lock_tenant_quota(conn, principal.tenant_id)
        report = await quota.read_quota(conn, principal.tenant_id, quota_defaults)
        if report.storage_bytes_used >= report.storage_bytes_limit:
            raise QuotaExceededError("storage quota used up; delete projects or raise the quota", "storage")
        project = await Project.create(tenant_id=principal.tenant_id, name=clean, description=text,
                                       created_by_id=principal.user_id, using_db=conn)
    return project


async def update_project(principal: Principal, project_id: UUID, *, name: str | None = None,
                         description: str | None = None) -> Project:
    """Rename or re-describe a project (editors+); None leaves a field as it is."""
    principal.require(Role.EDITOR)
    fields: dict[str, str] = {}
    if name is not None:
        fields["name"] = clean_name(name, field="name")
    if description is not None:
        fields["description"] = clean_text(description, field="description")
    async with tenant_tx(principal.tenant_id) as conn:
        project = await (Project.filter(id=project_id, tenant_id=principal.tenant_id).using_db(conn)
                         .select_for_update().first())
        if project is None:
            raise NotFoundError("project not found", "id")
        if not fields:
            raise ValidationError("nothing to update: give name or description", "input")
        for key, value in fields.items():
            setattr(project, key, value)
        await project.save(using_db=conn, update_fields=[*fields, "updated_at"])
    return project


async def delete_project(principal: Principal, project_id: UUID, *, settings: Settings | None = None) -> UUID:
    """Delete a project with everything it holds (admins+).

    Active jobs are cancelled; rows go by cascade; inputs, the jobs' intermediates, upscale chunks,
    outputs, upload staging and the cache entries no other project uses are deleted from storage; the
    storage counter is credited with what they had charged; signed links stop working (their owner is gone).
    """
    principal.require(Role.ADMIN)
    settings = settings or get_settings()
    async with tenant_tx(principal.tenant_id) as conn:
        project = await (Project.filter(id=project_id, tenant_id=principal.tenant_id).using_db(conn)
                         .select_for_update().first())
        if project is None:
            raise NotFoundError("project not found", "id")
        removal = await deletion.plan_project(conn, principal.tenant_id, project_id)
        await project.delete(using_db=conn)
        await deletion.settle(conn, removal, settings)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id,
                           action="project.deleted", target_type="project", target_id=str(project_id),
                           data={"jobs": len(removal.job_ids), "cancelled": len(removal.cancelled),
                                 "credited_bytes": removal.credited})
    await deletion.apply(removal, settings)
    return project_id


async def delete_job(principal: Principal, job_id: UUID, *, settings: Settings | None = None) -> UUID:
    """Delete one job (editors+): cancelled when active; its files, exclusive cache entries and charge go."""
    principal.require(Role.EDITOR)
    settings = settings or get_settings()
    async with tenant_tx(principal.tenant_id) as conn:
        job = await Job.filter(id=job_id, tenant_id=principal.tenant_id).using_db(conn).select_for_update().first()
        if job is None:
            raise NotFoundError("job not found", "id")
        removal = await deletion.plan_jobs(conn, principal.tenant_id, [job_id])
        await Job.filter(id=job_id).using_db(conn).delete()
        await deletion.settle(conn, removal, settings)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id, action="job.deleted",
                           target_type="job", target_id=str(job_id),
                           data={"cancelled": bool(removal.cancelled), "credited_bytes": removal.credited})
    await deletion.apply(removal, settings)
    return job_id


async def delete_asset(principal: Principal, asset_id: UUID, *, settings: Settings | None = None) -> UUID:
    """Delete one asset and its stored file (editors+); the project's active jobs, which may read it, are cancelled."""
    principal.require(Role.EDITOR)
    settings = settings or get_settings()
    async with tenant_tx(principal.tenant_id) as conn:
        asset = await (Asset.filter(id=asset_id, tenant_id=principal.tenant_id).using_db(conn)
                       .select_for_update().first())
        if asset is None:
            raise NotFoundError("asset not found", "id")
        removal = await deletion.plan_assets(conn, principal.tenant_id, [asset])
        project_id = asset.project_id  # type: ignore[attr-defined]
        active = await Job.filter(project_id=project_id, state__in=list(ACTIVE_JOB_STATES)).using_db(conn) \
            .values_list("id", flat=True)
        removal.cancelled = await deletion.cancel_active(conn, [UUID(str(i)) for i in active])
        await Asset.filter(id=asset_id).using_db(conn).delete()
        await deletion.settle(conn, removal, settings)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id,
                           action="asset.deleted", target_type="asset", target_id=str(asset_id),
                           data={"credited_bytes": removal.credited, "cancelled": len(removal.cancelled)})
    await deletion.apply(removal, settings)
    return asset_id


async def assets_by_project(principal: Principal, project_ids: list[UUID]) -> dict[UUID, list[Asset]]:
    """Assets of each project (one query for all; for the DataLoader), oldest first."""
    result: dict[UUID, list[Asset]] = {pid: [] for pid in project_ids}
    async with tenant_tx(principal.tenant_id) as conn:
        rows = await (Asset.filter(tenant_id=principal.tenant_id, project_id__in=project_ids).using_db(conn)
                      .order_by("created_at", "id"))
    for asset in rows:
        result.setdefault(asset.project_id, []).append(asset)  # type: ignore[attr-defined]
    return result
