"""Priorities and fair share in the ARQ sorted set; queue gauges; the message's meta."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from app.config import Settings
from app.queue import (
    CLASS_GAP_MS,
    CPU_QUEUE,
    STAGE_FUNCTION,
    SYSTEM_CLASS,
    deserialize,
    fair_score,
    get_pool,
    now_ms,
    promote_due,
    queue_stats,
)
from tests.ops.conftest import clear_queues, message_of


def _queue() -> str:
    return f"recap:test:q:{uuid.uuid4().hex[:8]}"


async def test_a_backlog_does_not_starve_another_tenant(redis_client: Any) -> None:
    queue, now = _queue(), now_ms()
    heavy = [await fair_score(redis_client, queue, "heavy", 1, quantum_ms=1000, now=now) for _ in range(200)]
    light = await fair_score(redis_client, queue, "light", 1, quantum_ms=1000, now=now + 50)
    assert heavy == sorted(heavy) and len(set(heavy)) == 200
    # The light tenant's first stage ranks behind only the heavy tenant's first one.
    assert sum(score < light for score in heavy) == 1
    assert max([*heavy, light]) <= now + 50  # never deferred into the future: ready at once


async def test_higher_class_first_and_low_classes_age(redis_client: Any) -> None:
    queue, now = _queue(), now_ms()
    free = await fair_score(redis_client, queue, "a", 0, quantum_ms=1000, now=now)
    pro = await fair_score(redis_client, queue, "b", 2, quantum_ms=1000, now=now + 10)
    assert pro < free
    # A free-plan stage that has waited two class gaps ranks ahead of a fresh pro one.
    fresh_pro = await fair_score(redis_client, queue, "c", 2, quantum_ms=1000, now=now + 2 * CLASS_GAP_MS + 10)
    assert free < fresh_pro


async def test_enqueue_carries_tenant_class_and_trace(settings: Settings, render_job: Any, redis_client: Any
                                                      ) -> None:
    await clear_queues(redis_client)
    _, free_job = await render_job(plan="free")
    _, pro_job = await render_job(plan="pro")
    free_msg = await message_of(redis_client, free_job.id, "ingest")
    assert free_msg["f"] == STAGE_FUNCTION and free_msg["a"] == [str(free_job.id), "ingest"]
    assert free_msg["k"]["meta"]["tenant"] == str(free_job.tenant_id)  # type: ignore[attr-defined]
    assert free_msg["k"]["meta"]["class"] == 0
    assert "trace" in free_msg["k"]["meta"]
    order = [m.decode() for m in await redis_client.zrange(CPU_QUEUE, 0, -1)]
    # pro was queued later and runs first
    assert order.index(f"{pro_job.id}:ingest:1") < order.index(f"{free_job.id}:ingest:1")
    stats = await queue_stats(redis_client, CPU_QUEUE)
    assert stats["ready"] == 2 and stats["running"] == 0 and stats["deferred"] == 0
    assert stats["oldest_ready_age_s"] >= 0


async def test_queue_stats_tell_ready_running_and_deferred(settings: Settings, redis_client: Any) -> None:
    pool = await get_pool(settings)
    queue = _queue()
    await pool.enqueue_job("x", _job_id="ready-old", _queue_name=queue)
    await asyncio.sleep(0.05)
    await pool.enqueue_job("x", _job_id="running", _queue_name=queue)
    await pool.enqueue_job("x", _job_id="later", _queue_name=queue, _defer_by=600)
    await redis_client.set("arq:in-progress:running", b"1")
    stats = await queue_stats(redis_client, queue)
    assert (stats["ready"], stats["running"], stats["deferred"]) == (1, 1, 1)
    assert stats["oldest_ready_age_s"] >= 0.04


async def test_keeper_gives_due_deferred_and_cron_messages_their_rank(settings: Settings, redis_client: Any) -> None:
    pool = await get_pool(settings)
    queue = _queue()
    meta = {"tenant": "t1", "class": 1, "enqueued_ms": now_ms(), "trace": {}}
    await pool.enqueue_job(STAGE_FUNCTION, "j", "ingest", meta=meta, _job_id="retry", _queue_name=queue,
                           _defer_by=0.05)
    await pool.enqueue_job("cron:reconcile_cron", _job_id="cron", _queue_name=queue)
    await pool.enqueue_job(STAGE_FUNCTION, "j", "align", meta=meta, _job_id="future", _queue_name=queue,
                           _defer_by=600)
    await asyncio.sleep(0.1)
    assert await promote_due(redis_client, queue, settings) == 2
    scores = {k.decode(): s for k, s in await redis_client.zrange(queue, 0, -1, withscores=True)}
    now = time.time() * 1000
    assert scores["cron"] <= now - (SYSTEM_CLASS + 1) * CLASS_GAP_MS + 1000  # above every stage
    assert now - 3 * CLASS_GAP_MS < scores["retry"] < now - CLASS_GAP_MS  # a class-1 fair score
    assert scores["future"] > now  # not due: untouched
    assert await promote_due(redis_client, queue, settings) == 0  # idempotent
    assert deserialize(await redis_client.get("arq:job:retry"))["k"]["meta"]["tenant"] == "t1"
