"""Job events sent from the API side (queued, cancelled, approved) and the cancel signal.

    await job_event(tenant_id, job, "cancelled")
"""

from __future__ import annotations

from uuid import UUID

from app.db import tenant_tx
from app.events import ProgressEvent, cancel_key, publish
from app.models import Job
from app.redis import get_redis

CANCEL_TTL_S = 7 * 24 * 3600


async def job_event(tenant_id: UUID, job: Job, state: str, message: str = "") -> None:
    async with tenant_tx(tenant_id) as conn:
        rows = await conn.execute_query_dict("UPDATE jobs SET seq = seq + 1 WHERE id = $1 RETURNING seq, progress",
                                             [str(job.id)])
    if not rows:
        return
    event = ProgressEvent(str(job.id), str(job.project_id), int(rows[0]["seq"]), None, state,  # type: ignore[attr-defined]
                          float(rows[0]["progress"]), message, "job")
    await publish(get_redis(), event)


async def signal_cancel(job_id: UUID) -> None:
    await get_redis().set(cancel_key(job_id), "1", ex=CANCEL_TTL_S)


async def clear_cancel(job_id: UUID) -> None:
    await get_redis().delete(cancel_key(job_id))
