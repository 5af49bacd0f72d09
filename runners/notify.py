"""Job-finished notifications: an event on the subscription (done by the executor) and an
optional per-tenant webhook with an HMAC-SHA256 signed body, retried with backoff.

Header ``X-Recap-Signature: sha256=<hex>`` over the raw body, keyed by the tenant's
webhook secret; n8n's "Webhook" node can check it with a Crypto node.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any
from uuid import UUID

import httpx

from app import metrics as m
from app.db import system_tx
from app.models import Job, Tenant

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 2.0, 8.0)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def job_finished(ctx: dict[str, Any], job_id: UUID | str) -> None:
    async with system_tx() as conn:
        job = await Job.filter(id=job_id).using_db(conn).first()
        tenant = None if job is None else await Tenant.filter(id=job.tenant_id).using_db(conn).first()  # type: ignore[attr-defined]
    if job is None or tenant is None or not tenant.webhook_url:
        return
    payload = {"event": "job.finished", "job_id": str(job.id), "project_id": str(job.project_id),  # type: ignore[attr-defined]
               "state": job.state.value, "error_code": job.error_code, "outputs": job.outputs}
    task = asyncio.create_task(deliver_webhook(tenant.webhook_url, tenant.webhook_secret or "", payload))
    ctx.setdefault("background", set()).add(task)  # the worker's shared set (see runners.worker.on_startup)
    task.add_done_callback(ctx["background"].discard)


async def deliver_webhook(url: str, secret: str, payload: dict[str, Any], *,
                          delays: tuple[float, ...] = RETRY_DELAYS) -> bool:
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-Recap-Signature": sign(secret, body),
               "X-Recap-Event": str(payload.get("event", ""))}
    async with httpx.AsyncClient(timeout=10.0) as client:
        for attempt, delay in enumerate((0.0, *delays)):
            await asyncio.sleep(delay)
            try:
                response = await client.post(url, content=body, headers=headers)
                if response.status_code < 300:
                    m.WEBHOOK_DELIVERIES.labels("delivered").inc()
                    return True
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    log.warning("webhook %s refused with %s; not retried", url, response.status_code)
                    m.WEBHOOK_DELIVERIES.labels("refused").inc()
                    return False
            except httpx.HTTPError as ex:
                log.info("webhook attempt %d to %s failed: %s", attempt + 1, url, ex)
    log.warning("webhook to %s failed after %d attempts", url, len(delays) + 1)
    m.WEBHOOK_DELIVERIES.labels("failed").inc()
    return False
