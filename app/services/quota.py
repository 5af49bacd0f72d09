"""Quota: a tenant's limits (QuotaPolicy row, else the settings' defaults) and its current usage.

Policy is a PLATFORM power: tenant members (admins included) only read their quota. A tenant's plan tier
(``tenants.plan``: ``free`` = ``settings.quota``, others in ``settings.plans``) decides its limits;
``set_tenant_plan`` writes the tier's limits into the tenant's QuotaPolicy row (no row: ``free``), so every
reader of ``quota_policies`` sees them; ``set_quota_policy`` sets custom limits on top. Both are for
platform admins only (``recap admin set-platform-admin`` makes one).

Usage: concurrent jobs = jobs in an active state; processing minutes = this month's usage counter
(period ``YYYY-MM``); storage bytes = the ``total`` counter.

    report = await get_quota(principal, defaults=settings.quota)                 # any member
    await set_tenant_plan(principal, tenant_id, "pro", settings)                  # platform admins
    await set_quota_policy(principal, tenant_id, concurrent_jobs=5, processing_minutes_per_month=900,
                           storage_bytes=10**12)                                  # platform admins
    await ensure_can_start_job(conn, principal.tenant_id, settings.quota)   # QuotaExceededError
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.config import DEFAULT_PLAN, QuotaDefaults, Settings, get_settings
from app.db import tenant_tx
from app.errors import NotFoundError, PermissionDeniedError, QuotaExceededError, ValidationError
from app.models import Job, QuotaPolicy, Tenant, UsageCounter
from app.models.enums import ACTIVE_JOB_STATES
from app.services import audit
from app.services.counters import add_usage

STORAGE_PERIOD = "total"


@dataclass(frozen=True, slots=True)
class QuotaReport:
    tenant_id: UUID
    concurrent_jobs_limit: int
    processing_minutes_limit: int
    storage_bytes_limit: int
    concurrent_jobs_used: int
    processing_minutes_used: float
    storage_bytes_used: int
    period: str
    is_default: bool
    plan: str = DEFAULT_PLAN


def current_period(now: datetime | None = None) -> str:
    """The usage period of ``now`` (UTC month) as ``YYYY-MM``."""
    return (now or datetime.now(UTC)).strftime("%Y-%m")


async def read_quota(conn: Any, tenant_id: UUID, defaults: QuotaDefaults | None = None) -> QuotaReport:
    """Limits and usage of ``tenant_id`` read on ``conn`` (a tenant_tx of that tenant)."""
    defaults = defaults or get_settings().quota
    period = current_period()
    policy = await QuotaPolicy.filter(tenant_id=tenant_id).using_db(conn).first()
    counters = {c.period: c for c in await UsageCounter.filter(tenant_id=tenant_id,
                                                               period__in=[period, STORAGE_PERIOD]).using_db(conn)}
    active = await Job.filter(tenant_id=tenant_id, state__in=list(ACTIVE_JOB_STATES)).using_db(conn).count()
    plans = await Tenant.filter(id=tenant_id).using_db(conn).values_list("plan", flat=True)
    month, total = counters.get(period), counters.get(STORAGE_PERIOD)
    return QuotaReport(
        tenant_id=tenant_id,
        concurrent_jobs_limit=policy.concurrent_jobs if policy else defaults.concurrent_jobs,
        processing_minutes_limit=(policy.processing_minutes_per_month if policy
                                  else defaults.processing_minutes_per_month),
        storage_bytes_limit=policy.storage_bytes if policy else defaults.storage_bytes,
        concurrent_jobs_used=active,
        processing_minutes_used=round((month.processing_seconds if month else 0.0) / 60.0, 3),
        storage_bytes_used=total.storage_bytes if total else 0,
        period=period, is_default=policy is None, plan=str(plans[0]) if plans else DEFAULT_PLAN,
    )


async def get_quota(principal: Principal, *, defaults: QuotaDefaults | None = None) -> QuotaReport:
    """The caller's tenant's limits and usage (any member)."""
    async with tenant_tx(principal.tenant_id) as conn:
        return await read_quota(conn, principal.tenant_id, defaults)


async def ensure_can_start_job(conn: Any, tenant_id: UUID, defaults: QuotaDefaults | None = None) -> QuotaReport:
    """Raise QuotaExceededError when a new job would pass the concurrent-job or monthly-minutes limit."""
    report = await read_quota(conn, tenant_id, defaults)
    if report.concurrent_jobs_used >= report.concurrent_jobs_limit:
        raise QuotaExceededError(f"at most {report.concurrent_jobs_limit} jobs may run at once", "concurrentJobs")
    if report.processing_minutes_used >= report.processing_minutes_limit:
        raise QuotaExceededError("this month's processing minutes are used up", "processingMinutes")
    return report


def _check_limits(values: dict[str, int]) -> None:
    for field, value in values.items():
        if value < 0 or value > 2**62:
            raise ValidationError(f"{field} must be between 0 and 2^62", field)


def _require_platform_admin(principal: Principal, tenant_id: UUID) -> None:
    if principal.is_platform_admin:
        return
    if tenant_id != principal.tenant_id:  # another tenant: "not found", never "forbidden"
        raise NotFoundError("tenant not found", "tenantId")
    raise PermissionDeniedError("quota policy and plans are set by the platform's administrators; "
                                "tenant admins can read them (query quota)")


async def _upsert_policy(conn: Any, tenant_id: UUID, values: dict[str, int]) -> None:
    updated = await QuotaPolicy.filter(tenant_id=tenant_id).using_db(conn).update(**values)
    if not updated:
        await QuotaPolicy.create(tenant_id=tenant_id, **values, using_db=conn)


async def set_quota_policy(principal: Principal, tenant_id: UUID, *, concurrent_jobs: int,
                           processing_minutes_per_month: int, storage_bytes: int,
                           defaults: QuotaDefaults | None = None) -> QuotaReport:
    """Set custom limits for ``tenant_id`` (platform admins only).

    Raises:
        NotFoundError: another tenant's id (unless platform admin) or an unknown tenant.
        PermissionDeniedError: the caller is not a platform admin (tenant admins included).
    """
    _require_platform_admin(principal, tenant_id)
    _check_limits({"concurrentJobs": concurrent_jobs, "processingMinutesPerMonth": processing_minutes_per_month,
                   "storageBytes": storage_bytes})
    async with tenant_tx(tenant_id) as conn:
        if not await Tenant.filter(id=tenant_id).using_db(conn).exists():
            raise NotFoundError("tenant not found", "tenantId")
        values = {"concurrent_jobs": concurrent_jobs, "processing_minutes_per_month": processing_minutes_per_month,
                  "storage_bytes": storage_bytes}
        await _upsert_policy(conn, tenant_id, values)
        await audit.record(conn, tenant_id=tenant_id, actor_id=principal.actor_id, action="quota.changed",
                           target_type="tenant", target_id=str(tenant_id), data=values)
        return await read_quota(conn, tenant_id, defaults)


async def set_tenant_plan(principal: Principal, tenant_id: UUID, plan: str, settings: Settings) -> QuotaReport:
    """Move ``tenant_id`` onto ``plan``; its limits become the plan's (platform admins only).

    Raises:
        ValidationError(field="plan"): not a configured plan.
        NotFoundError / PermissionDeniedError: as :func:`set_quota_policy`.
    """
    _require_platform_admin(principal, tenant_id)
    limits = settings.plan_limits(plan)
    if limits is None:
        names = ", ".join(sorted({DEFAULT_PLAN, *settings.plans}))
        raise ValidationError(f"unknown plan {plan!r} (plans: {names})", "plan")
    async with tenant_tx(tenant_id) as conn:
        if not await Tenant.filter(id=tenant_id).using_db(conn).update(plan=plan):
            raise NotFoundError("tenant not found", "tenantId")
        if plan == DEFAULT_PLAN:
            await QuotaPolicy.filter(tenant_id=tenant_id).using_db(conn).delete()
        else:
            await _upsert_policy(conn, tenant_id, limits.model_dump())
        await audit.record(conn, tenant_id=tenant_id, actor_id=principal.actor_id, action="quota.plan_changed",
                           target_type="tenant", target_id=str(tenant_id), data={"plan": plan})
        return await read_quota(conn, tenant_id, settings.quota)


# --- Storage accounting (lock and counter). Every storage-quota decision of the code base goes through
# --- these: uploads, delivery, deletion, exports, retention. Policy functions live above.

#: Second key of the per-tenant advisory lock (``hashtextextended(tenant, 7)``): shared with job admission,
#: so every quota decision of one tenant is serialised by one lock.
QUOTA_LOCK_SPACE = 7


async def lock_tenant_quota(conn: Any, tenant_id: UUID) -> None:
    """Serialise the quota decisions of ``tenant_id`` until ``conn``'s transaction ends.

    Every check-then-charge of stored bytes takes this lock first, so two of them (an upload and a
    delivery, two uploads) can never both see the same headroom.
    """
    await conn.execute_query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))",
                             [str(tenant_id), QUOTA_LOCK_SPACE])


async def add_stored_bytes(conn: Any, tenant_id: UUID, delta: int) -> None:
    """Add ``delta`` bytes (negative: a credit) to the tenant's storage counter; it never goes below 0."""
    await add_usage(conn, tenant_id, STORAGE_PERIOD, storage_bytes=delta)


def charged_bytes(outputs: Any) -> int:
    """Bytes a job's delivery charged: exactly the sizes recorded in ``Job.outputs`` (runners/stages/deliver)."""
    if not isinstance(outputs, dict):
        return 0
    return sum(int(item.get("size") or 0) for item in outputs.values() if isinstance(item, dict))


async def ensure_storage_fits(conn: Any, tenant_id: UUID, extra: int, *, reserved: int = 0,
                              defaults: QuotaDefaults | None = None, field: str = "storage") -> QuotaReport:
    """Take the tenant's quota lock, then raise QuotaExceededError unless ``extra`` more bytes fit.

    ``reserved`` are bytes promised to work in flight (open uploads) that are not counted yet.
    """
    await lock_tenant_quota(conn, tenant_id)
    report = await read_quota(conn, tenant_id, defaults)
    if report.storage_bytes_used + reserved + extra > report.storage_bytes_limit:
        left = max(0, report.storage_bytes_limit - report.storage_bytes_used - reserved)
        raise QuotaExceededError(f"{extra:,} bytes do not fit the storage quota; {left:,} bytes are left", field)
    return report
