"""Tenant budgets: when a tenant's cost this month crosses 80 % or 100 % of its budget, announce it once.

The announcement is an audit event (``budget.threshold``), a log line, the series
``recap_budget_alerts_total{level}`` and, when the tenant has a webhook, a signed
``budget.threshold`` webhook. The row's ``(alerted_period, alerted_level)`` is moved forward
with a guarded UPDATE, so two workers that see the crossing together send one announcement.

    await check_budget(ctx, tenant_id)   # after each stage run's cost is added
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app import metrics as m
from app.db import system_tx
from app.models import AuditEvent, Tenant

log = logging.getLogger(__name__)
LEVELS = (100, 80)

_SPENT = """
SELECT b.monthly_cost, b.alerted_period, b.alerted_level,
       (SELECT COALESCE(SUM(j.cost), 0) FROM jobs j
         WHERE j.tenant_id = b.tenant_id AND j.created_at >= date_trunc('month', now())) AS spent
  FROM tenant_budgets b WHERE b.tenant_id = $1
"""
_ADVANCE = """
UPDATE tenant_budgets SET alerted_period = $2, alerted_level = $3, updated_at = now()
 WHERE tenant_id = $1 AND (alerted_period IS DISTINCT FROM $2 OR alerted_level < $3) RETURNING tenant_id
"""


def level_for(spent: float, budget: float) -> int:
    return next((level for level in LEVELS if spent >= budget * level / 100), 0)


async def check_budget(ctx: dict[str, Any], tenant_id: UUID | str) -> int:
    """Announce a newly crossed threshold; returns it (0 when nothing new)."""
    period = datetime.now(UTC).strftime("%Y-%m")
    async with system_tx() as conn:
        rows = await conn.execute_query_dict(_SPENT, [str(tenant_id)])
        if not rows:
            return 0
        row = rows[0]
        level = level_for(float(row["spent"]), float(row["monthly_cost"]))
        previous = row["alerted_level"] if row["alerted_period"] == period else 0
        if level <= previous or not await conn.execute_query_dict(_ADVANCE, [str(tenant_id), period, level]):
            return 0
        data = {"level": level, "period": period, "spent": round(float(row["spent"]), 6),
                "budget": float(row["monthly_cost"])}
        await AuditEvent.create(tenant_id=tenant_id, action="budget.threshold", target_type="tenant",
                                target_id=str(tenant_id), data=data, using_db=conn)
        tenant = await Tenant.filter(id=tenant_id).using_db(conn).first()
    m.BUDGET_ALERTS.labels(str(level)).inc()
    log.warning("tenant %s reached %d %% of its monthly budget", tenant_id, level)
    if tenant is not None and tenant.webhook_url:
        from runners.notify import deliver_webhook

        payload = {"event": "budget.threshold", "tenant_id": str(tenant_id), **data}
        task = asyncio.create_task(deliver_webhook(tenant.webhook_url, tenant.webhook_secret or "", payload))
        ctx.setdefault("background", set()).add(task)
        task.add_done_callback(ctx["background"].discard)
    return level


__all__ = ["check_budget", "level_for"]
