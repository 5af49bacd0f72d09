"""Retention: per-tenant days to keep intermediates, outputs, exports and audit events; the cron enforces them.

``intermediates``: the job folders (``intermediate/{job}/``, upscale chunks) and the cache entries
of jobs finished more than N days ago that no newer job uses; the jobs keep their rows, stage history
and outputs (a retry of such a job cannot resume: its upstream artifacts are gone), and a later render
recomputes what it needs. ``outputs``: a finished job's delivered files (the job row stays, its ``outputs`` are
emptied, the storage counter is credited). ``exports``: personal-data zips of the tenant's members.
``audit``: audit events of the tenant. ``None`` keeps forever. A dry run reports without removing.

    await set_retention_policy(principal, outputs_days=90, intermediates_days=7)
    report = await enforce(settings, storage, dry_run=True)     # what would go, per tenant
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx, tenant_tx
from app.errors import ValidationError
from app.models import AuditEvent, DataExport, Job, Membership, RetentionPolicy, Role
from app.models.enums import TERMINAL_JOB_STATES
from app.services import audit, deletion, quota
from app.storage import Storage
from app.storage.keys import JOB_ROOTS

KINDS = ("intermediates", "outputs", "exports", "audit")
MAX_DAYS = 36500


async def get_retention_policy(principal: Principal) -> RetentionPolicy | None:
    """The caller's tenant's policy (any member reads it); None = keep everything."""
    async with tenant_tx(principal.tenant_id) as conn:
        return await RetentionPolicy.filter(tenant_id=principal.tenant_id).using_db(conn).first()


async def set_retention_policy(principal: Principal, **days: int | None) -> RetentionPolicy:
    """Set the tenant's retention (admins+): ``{intermediates,outputs,exports,audit}_days``; None keeps."""
    principal.require(Role.ADMIN)
    values: dict[str, int | None] = {}
    for kind in KINDS:
        value = days.get(f"{kind}_days")
        if value is not None and not 1 <= value <= MAX_DAYS:
            raise ValidationError(f"{kind}Days must be between 1 and {MAX_DAYS} (or null: keep)", f"{kind}Days")
        values[f"{kind}_days"] = value
    async with tenant_tx(principal.tenant_id) as conn:
        if not await RetentionPolicy.filter(tenant_id=principal.tenant_id).using_db(conn).update(**values):
            await RetentionPolicy.create(tenant_id=principal.tenant_id, **values, using_db=conn)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id,
                           action="retention.changed", target_type="tenant", target_id=str(principal.tenant_id),
                           data=values)
        return await RetentionPolicy.get(tenant_id=principal.tenant_id, using_db=conn)


@dataclass
class TenantReport:
    tenant_id: UUID
    intermediates: int = 0  # jobs whose intermediates went
    outputs: int = 0  # jobs whose outputs went
    exports: int = 0
    audit_events: int = 0
    credited_bytes: int = 0
    objects: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, UUID) else v) for k, v in self.__dict__.items()}


@dataclass
class RetentionReport:
    dry_run: bool
    tenants: list[TenantReport] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "tenants": [t.to_json() for t in self.tenants]}


def _cutoff(days: int | None, now: datetime) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


async def enforce(settings: Settings, storage: Storage, *, dry_run: bool | None = None,
                  now: datetime | None = None, tenant_id: UUID | None = None) -> RetentionReport:
    """Apply every tenant's policy (or ``tenant_id``'s) once (the worker cron); ``dry_run`` only counts."""
    dry = settings.governance.retention_dry_run if dry_run is None else dry_run
    moment = now or datetime.now(UTC)
    report = RetentionReport(dry)
    async with system_tx() as conn:
        query = RetentionPolicy.all().using_db(conn)
        policies = await (query.filter(tenant_id=tenant_id) if tenant_id is not None else query)
    for policy in policies:
        report.tenants.append(await _enforce_tenant(settings, storage, policy, moment, dry))
    return report


async def _enforce_tenant(settings: Settings, storage: Storage, policy: RetentionPolicy, now: datetime,
                          dry: bool) -> TenantReport:
    tenant_id = UUID(str(policy.tenant_id))  # type: ignore[attr-defined]
    out = TenantReport(tenant_id)
    removal = deletion.Removal(tenant_id)
    async with system_tx() as conn:
        await quota.lock_tenant_quota(conn, tenant_id)
        cutoff = _cutoff(policy.intermediates_days, now)
        if cutoff is not None:
            await _intermediates(conn, tenant_id, cutoff, removal, out, dry)
        cutoff = _cutoff(policy.outputs_days, now)
        if cutoff is not None:
            await _outputs(conn, tenant_id, cutoff, removal, out, dry)
        cutoff = _cutoff(policy.exports_days, now)
        if cutoff is not None:
            await _exports(conn, tenant_id, cutoff, removal, out, dry)
        cutoff = _cutoff(policy.audit_days, now)
        if cutoff is not None:
            query = AuditEvent.filter(tenant_id=tenant_id, created_at__lt=cutoff).using_db(conn)
            out.audit_events = await (query.count() if dry else query.delete())
        if not dry:
            await deletion.settle(conn, removal, settings)
    if not dry:
        out.objects = await deletion.remove_files(storage, removal)
        if removal.purge_id is not None:
            async with system_tx():
                from app.models import StoragePurge

                await StoragePurge.filter(id=removal.purge_id).delete()
    return out


async def _old_jobs(conn: Any, tenant_id: UUID, cutoff: datetime) -> list[Job]:
    return list(await Job.filter(tenant_id=tenant_id, state__in=list(TERMINAL_JOB_STATES),
                                 finished_at__lt=cutoff).using_db(conn))


async def _intermediates(conn: Any, tenant_id: UUID, cutoff: datetime, removal: deletion.Removal,
                         out: TenantReport, dry: bool) -> None:
    # Jobs that still point at stage artifacts; once purged they point at none, so each job is handled once.
    rows = await conn.execute_query_dict(
        "SELECT DISTINCT j.id::text AS id FROM jobs j JOIN stage_runs s ON s.job_id = j.id "
        "WHERE j.tenant_id = $1 AND j.state = ANY($2::text[]) AND j.finished_at < $3 AND s.artifact_id IS NOT NULL",
        [str(tenant_id), [s.value for s in TERMINAL_JOB_STATES], cutoff])
    ids = [r["id"] for r in rows]
    out.intermediates = len(ids)
    if dry or not ids:
        return
    removal.prefixes += [f"{root}/{j}/" for j in ids for root in JOB_ROOTS if root != "outputs"]
    # The stage runs keep their history but no longer hold artifacts; cache entries a newer job still uses
    # stay referenced, the rest become orphans and go (rows now, files after the commit).
    artifacts = await deletion.exclusive_artifacts(conn, [UUID(i) for i in ids])
    await conn.execute_query("UPDATE stage_runs SET artifact_id = NULL WHERE job_id = ANY($1::uuid[])", [ids])
    if artifacts:
        removal.prefixes += [f"{key.rstrip('/')}/" for _, key in artifacts]
        await conn.execute_query("DELETE FROM artifacts WHERE id = ANY($1::uuid[])", [[i for i, _ in artifacts]])


async def _outputs(conn: Any, tenant_id: UUID, cutoff: datetime, removal: deletion.Removal, out: TenantReport,
                   dry: bool) -> None:
    jobs = [j for j in await _old_jobs(conn, tenant_id, cutoff) if j.outputs]
    out.outputs = len(jobs)
    charged = sum(quota.charged_bytes(j.outputs) for j in jobs)
    out.credited_bytes += charged
    if dry or not jobs:
        return
    removal.credited += charged
    removal.prefixes += [f"outputs/{j.id}/" for j in jobs]
    await Job.filter(id__in=[j.id for j in jobs]).using_db(conn).update(outputs={})


async def _exports(conn: Any, tenant_id: UUID, cutoff: datetime, removal: deletion.Removal, out: TenantReport,
                   dry: bool) -> None:
    members = await Membership.filter(tenant_id=tenant_id).using_db(conn).values_list("user_id", flat=True)
    query = DataExport.filter(user_id__in=list(members), created_at__lt=cutoff).using_db(conn)
    old = await query
    out.exports = len(old)
    if dry or not old:
        return
    removal.keys += [e.storage_key for e in old if e.storage_key]
    await DataExport.filter(id__in=[e.id for e in old]).using_db(conn).delete()
