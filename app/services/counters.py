"""The tenant usage counters (``usage_counters``): the one upsert every charge and credit goes through.

Rows are per tenant and period: ``"YYYY-MM"`` for processing seconds and egress, ``"total"``
(``quota.STORAGE_PERIOD``) for stored bytes. A counter never goes below zero. Call it inside the
transaction that holds the tenant's quota lock when a check comes before the charge::

    await add_usage(conn, tenant_id, "2026-12", processing_seconds=92.5)
    await add_usage(conn, tenant_id, STORAGE_PERIOD, storage_bytes=-size)    # a credit
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

_UPSERT = (
    "INSERT INTO usage_counters (id, tenant_id, period, processing_seconds, storage_bytes, egress_bytes, updated_at) "
    "VALUES (gen_random_uuid(), $1, $2, GREATEST($3::float8, 0), GREATEST($4::bigint, 0), GREATEST($5::bigint, 0), "
    "now()) ON CONFLICT (tenant_id, period) DO UPDATE SET "
    "processing_seconds = GREATEST(usage_counters.processing_seconds + $3::float8, 0), "
    "storage_bytes = GREATEST(usage_counters.storage_bytes + $4::bigint, 0), "
    "egress_bytes = GREATEST(usage_counters.egress_bytes + $5::bigint, 0), updated_at = now()")


async def add_usage(conn: Any, tenant_id: UUID, period: str, *, processing_seconds: float = 0.0,
                    storage_bytes: int = 0, egress_bytes: int = 0) -> None:
    """Add the amounts (negative: a credit) to the tenant's counters for ``period``."""
    if not (processing_seconds or storage_bytes or egress_bytes):
        return
    await conn.execute_query(_UPSERT, [str(tenant_id), period, float(processing_seconds), int(storage_bytes),
                                       int(egress_bytes)])
