"""The tenant usage counters (``usage_counters``): one upsert for every charge.

Rows are per tenant and period: ``"YYYY-MM"`` for processing seconds, ``"total"``
(``quota.STORAGE_PERIOD``) for stored bytes. Call it inside the transaction that holds the
tenant's quota lock, so the check and the charge are one decision::

    await add_usage(conn, tenant_id, "2026-12", processing_seconds=92.5)
    await add_usage(conn, tenant_id, STORAGE_PERIOD, storage_bytes=size)
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

_UPSERT = (
    "INSERT INTO usage_counters (id, tenant_id, period, processing_seconds, storage_bytes, updated_at) "
    "VALUES (gen_random_uuid(), $1, $2, $3, $4, now()) ON CONFLICT (tenant_id, period) DO UPDATE SET "
    "processing_seconds = usage_counters.processing_seconds + EXCLUDED.processing_seconds, "
    "storage_bytes = usage_counters.storage_bytes + EXCLUDED.storage_bytes, updated_at = now()")


async def add_usage(conn: Any, tenant_id: UUID, period: str, *, processing_seconds: float = 0.0,
                    storage_bytes: int = 0) -> None:
    """Add to (or subtract from, with negative amounts) the tenant's counters for ``period``."""
    await conn.execute_query(_UPSERT, [str(tenant_id), period, processing_seconds, storage_bytes])
