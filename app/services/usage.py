"""Usage and cost per tenant and month: jobs, source minutes, resources, storage, egress, money.

Compute cost is what the workers priced per stage run (``runners.accounting``, summed on the
job); storage and egress are priced here from the same table (``settings.cost``). A tenant sees
its own month; a platform admin may ask for every tenant.

    rows = await month_usage(principal, "2026-12")                    # [TenantUsage] of the caller's tenant
    rows = await month_usage(admin, "2026-12", all_tenants=True)      # every tenant (platform admins)
    await set_budget(admin, tenant_id, 250.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from app.auth.principal import Principal
from app.config import Settings, get_settings
from app.db import system_tx, tenant_tx
from app.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.models import Role
from app.services.counters import add_usage
from app.services.quota import STORAGE_PERIOD

GIB = 1024**3
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def is_platform_admin(principal: Principal) -> bool:
    """The one place that decides "platform admin" for usage and budgets (the token's ``pa`` claim)."""
    return principal.is_platform_admin


@dataclass(frozen=True, slots=True)
class TenantUsage:
    tenant_id: UUID
    month: str
    jobs: int
    jobs_succeeded: int
    source_minutes: float
    cpu_seconds: float
    gpu_seconds: float
    wall_seconds: float
    storage_bytes: int
    egress_bytes: int
    compute_cost: float
    storage_cost: float
    egress_cost: float
    budget: float | None

    @property
    def cost(self) -> float:
        return self.compute_cost + self.storage_cost + self.egress_cost

    @property
    def cost_per_source_minute(self) -> float | None:
        return self.compute_cost / self.source_minutes if self.source_minutes > 0 else None


_USAGE = """
SELECT t.id AS tenant_id,
       COUNT(j.id) AS jobs, COUNT(j.id) FILTER (WHERE j.state = 'succeeded') AS jobs_succeeded,
       COALESCE(SUM(j.source_seconds), 0) AS source_seconds, COALESCE(SUM(j.cpu_seconds), 0) AS cpu_seconds,
       COALESCE(SUM(j.gpu_seconds), 0) AS gpu_seconds, COALESCE(SUM(j.wall_seconds), 0) AS wall_seconds,
       COALESCE(SUM(j.cost), 0) AS compute_cost,
       (SELECT COALESCE(SUM(u.storage_bytes), 0) FROM usage_counters u
         WHERE u.tenant_id = t.id AND u.period = $2) AS storage_bytes,
       (SELECT COALESCE(SUM(u.egress_bytes), 0) FROM usage_counters u
         WHERE u.tenant_id = t.id AND u.period = $3) AS egress_bytes,
       (SELECT b.monthly_cost FROM tenant_budgets b WHERE b.tenant_id = t.id) AS budget
  FROM tenants t
  LEFT JOIN jobs j ON j.tenant_id = t.id AND j.created_at >= $4 AND j.created_at < $5
 WHERE ($1::uuid IS NULL OR t.id = $1::uuid)
 GROUP BY t.id ORDER BY t.id
"""


def _bounds(month: str) -> tuple[datetime, datetime]:
    if not _MONTH.match(month):
        raise ValidationError("month must be YYYY-MM", "month")
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    return start, datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)


async def month_usage(principal: Principal, month: str | None = None, *, all_tenants: bool = False,
                      settings: Settings | None = None) -> list[TenantUsage]:
    """Usage of the caller's tenant (or of every tenant, for platform admins) in ``month`` (UTC)."""
    settings = settings or get_settings()
    month = month or datetime.now(UTC).strftime("%Y-%m")
    start, end = _bounds(month)
    if all_tenants and not is_platform_admin(principal):
        raise PermissionDeniedError("only platform admins may read every tenant's usage")
    tenant = None if all_tenants else str(principal.tenant_id)
    # Platform admins read across tenants on the system connection; a tenant's own read stays under RLS.
    tx = system_tx() if all_tenants else tenant_tx(principal.tenant_id)
    async with tx as conn:
        rows = await conn.execute_query_dict(_USAGE, [tenant, STORAGE_PERIOD, month, start, end])
    price = settings.cost
    return [TenantUsage(
        tenant_id=r["tenant_id"], month=month, jobs=int(r["jobs"]), jobs_succeeded=int(r["jobs_succeeded"]),
        source_minutes=float(r["source_seconds"]) / 60, cpu_seconds=float(r["cpu_seconds"]),
        gpu_seconds=float(r["gpu_seconds"]), wall_seconds=float(r["wall_seconds"]),
        storage_bytes=int(r["storage_bytes"]), egress_bytes=int(r["egress_bytes"]),
        compute_cost=float(r["compute_cost"]), storage_cost=int(r["storage_bytes"]) / GIB * price.storage_gib_month,
        egress_cost=int(r["egress_bytes"]) / GIB * price.egress_gib,
        budget=float(r["budget"]) if r["budget"] is not None else None) for r in rows]


async def set_budget(principal: Principal, tenant_id: UUID, monthly_cost: float | None) -> None:
    """Set (or with None remove) a tenant's monthly budget: its owner, or a platform admin.

    Raises:
        NotFoundError: another tenant (for anyone but a platform admin), or no such tenant.
        PermissionDeniedError: a member of the tenant below owner.
        ValidationError: a budget that is not positive.
    """
    if not is_platform_admin(principal):
        if principal.tenant_id != tenant_id:
            raise NotFoundError("tenant not found", "tenantId")  # another tenant is "not found", never "forbidden"
        principal.require(Role.OWNER)
    if monthly_cost is not None and monthly_cost <= 0:
        raise ValidationError("the budget must be positive", "monthlyCost")
    async with system_tx() as conn:
        if not await conn.execute_query_dict("SELECT 1 FROM tenants WHERE id = $1", [str(tenant_id)]):
            raise NotFoundError("tenant not found", "tenantId")
        if monthly_cost is None:
            await conn.execute_query("DELETE FROM tenant_budgets WHERE tenant_id = $1", [str(tenant_id)])
        else:
            await conn.execute_query(
                "INSERT INTO tenant_budgets (tenant_id, monthly_cost) VALUES ($1, $2) ON CONFLICT (tenant_id) "
                "DO UPDATE SET monthly_cost = EXCLUDED.monthly_cost, updated_at = now()",
                [str(tenant_id), monthly_cost])


async def record_egress(tenant_id: UUID, sent: int) -> None:
    """Add bytes sent by a download to the tenant's month."""
    if sent <= 0:
        return
    async with system_tx() as conn:
        await add_usage(conn, tenant_id, datetime.now(UTC).strftime("%Y-%m"), egress_bytes=sent)
