"""A real stage run records its resources and cost; the job sums them; usage(month); budgets alert once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.errors import PermissionDeniedError
from app.models import AuditEvent, Job, Role, Stage, StageRun, StageState
from app.services import usage
from runners.worker import stage_message
from tests.ops.conftest import message_of


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_stage_run_records_resources_and_cost(settings: Settings, render_job: Any, worker_ctx: dict[str, Any],
                                                    redis_client: Any) -> None:
    principal, job = await render_job()
    meta = (await message_of(redis_client, job.id, "ingest"))["k"]["meta"]
    before = _sample("recap_stage_duration_seconds_count", {"stage": "ingest", "outcome": "done"})
    outcome = await stage_message(worker_ctx, str(job.id), "ingest", meta)
    assert outcome == "done"
    async with system_tx():
        run = await StageRun.get(job_id=job.id, stage=Stage.INGEST)
        fresh = await Job.get(id=job.id)
    assert run.state is StageState.SUCCEEDED
    assert run.wall_seconds > 0 and run.cpu_seconds > 0 and run.peak_memory_bytes > 10 * 1024**2
    assert run.bytes_read > 0 and run.bytes_written > 0 and run.gpu_seconds == 0  # a CPU worker
    price = settings.cost
    expected = (run.cpu_seconds * price.cpu_second + run.peak_memory_bytes / 1024**3 * run.wall_seconds
                * price.memory_gib_second + (run.bytes_read + run.bytes_written) / 1024**3 * price.io_gib)
    assert run.cost == pytest.approx(expected, rel=1e-6) and run.cost > 0
    assert (fresh.cpu_seconds, fresh.wall_seconds, fresh.cost) == pytest.approx(
        (run.cpu_seconds, run.wall_seconds, run.cost))
    assert _sample("recap_stage_duration_seconds_count", {"stage": "ingest", "outcome": "done"}) == before + 1
    assert _sample("recap_stage_queue_wait_seconds_count", {"queue": "recap:queue:cpu", "priority": "0"}) >= 1

    [mine] = await usage.month_usage(principal, datetime.now(UTC).strftime("%Y-%m"), settings=settings)
    assert mine.tenant_id == principal.tenant_id and mine.jobs == 1
    assert mine.compute_cost == pytest.approx(run.cost) and mine.source_minutes == pytest.approx(2 / 60, rel=0.1)
    assert mine.cost_per_source_minute == pytest.approx(run.cost / mine.source_minutes)
    with pytest.raises(PermissionDeniedError):
        await usage.month_usage(principal, all_tenants=True)


async def test_platform_admin_sees_every_tenant(settings: Settings, render_job: Any, tenant_factory: Any,
                                                user_factory: Any) -> None:
    a, _ = await render_job()
    b, _ = await render_job()
    admin_user, _ = await user_factory(await tenant_factory(), Role.VIEWER, is_platform_admin=True)
    admin = Principal(admin_user.id, a.tenant_id, Role.VIEWER, is_platform_admin=True)
    rows = await usage.month_usage(admin, all_tenants=True, settings=settings)
    seen = {r.tenant_id: r for r in rows}
    assert {a.tenant_id, b.tenant_id} <= set(seen) and seen[a.tenant_id].jobs == 1


async def test_budget_alerts_at_80_and_100_percent_once(settings: Settings, render_job: Any,
                                                        worker_ctx: dict[str, Any], redis_client: Any) -> None:
    from runners.budget import check_budget

    received: list[dict[str, Any]] = []
    from tests.runners.conftest import serve_on_loopback

    async def receiver(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(json.loads(body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with serve_on_loopback(lambda url: receiver, lifespan="off", ws="none") as hook_url:
        principal, job = await render_job(webhook_url=hook_url)
        owner = Principal(principal.user_id, principal.tenant_id, Role.OWNER)
        async with system_tx():
            await Job.filter(id=job.id).update(cost=0.85)
        await usage.set_budget(owner, principal.tenant_id, 1.0)
        assert await check_budget(worker_ctx, principal.tenant_id) == 80
        assert await check_budget(worker_ctx, principal.tenant_id) == 0  # announced once
        async with system_tx():
            await Job.filter(id=job.id).update(cost=1.2)
        assert await check_budget(worker_ctx, principal.tenant_id) == 100
        await asyncio.wait(list(worker_ctx["background"]), timeout=10)
    assert [(r["event"], r["level"]) for r in received] == [("budget.threshold", 80), ("budget.threshold", 100)]
    async with system_tx():
        events = await AuditEvent.filter(tenant_id=principal.tenant_id, action="budget.threshold").order_by("id")
    assert [e.data["level"] for e in events] == [80, 100]
    viewer = Principal(principal.user_id, principal.tenant_id, Role.EDITOR)
    with pytest.raises(PermissionDeniedError):
        await usage.set_budget(viewer, principal.tenant_id, 5.0)
