"""The rate tier of a tenant: the one its ``tenants.plan`` names (free/pro/studio), else the default plan.

Looked up once a minute per tenant and process (a plan change takes effect within a minute).

    tier = await tier_of(tenant_id, settings.ratelimit)      # RateTier
"""

from __future__ import annotations

import time
from uuid import UUID

from app.config import RateLimitSettings, RateTier
from app.models import Tenant
from app.unavailable import is_unavailable

_TTL_S = 60.0
_cache: dict[UUID, tuple[float, str | None]] = {}


async def plan_of(tenant_id: UUID) -> str | None:
    """The tenant's plan name (None when it has none or the model has no plan column)."""
    if "plan" not in Tenant._meta.fields_map:
        return None
    now = time.monotonic()
    cached = _cache.get(tenant_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    from app.db import system_tx

    try:
        async with system_tx():
            rows = await Tenant.filter(id=tenant_id).values_list("plan", flat=True)
    except Exception as ex:  # PostgreSQL down: the default tier for now (not cached); the endpoint says UNAVAILABLE
        if is_unavailable(ex):
            return None
        raise
    plan = str(rows[0]) if rows and rows[0] is not None else None
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[tenant_id] = (now + _TTL_S, plan)
    return plan


async def tier_of(tenant_id: UUID, settings: RateLimitSettings) -> RateTier:
    return settings.tier(await plan_of(tenant_id))
