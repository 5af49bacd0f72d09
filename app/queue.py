"""The one module that knows the job queue (ARQ). Everything else calls ``enqueue_stage``.

ARQ may run a job more than once and has no priorities; Postgres holds the truth
(``StageRun``), stages are idempotent, and the reconciler re-enqueues lost work. Replacing
ARQ means rewriting this module and ``runners/worker.py`` only.

Priorities and fair share live in the sorted-set score, so ARQ's workers stay unchanged: an
ARQ worker takes the ready message with the lowest score (ready = score <= now). A message's
score is its tenant's *virtual start time*, pushed into the past by its priority class:

- fair share (start-time fair queuing): each (queue, class, tenant) keeps a virtual clock;
  a message starts at ``max(clock, now - FAIR_WINDOW)`` and moves the clock on by one quantum.
  A tenant that queues 200 stages at once spreads them over 200 quanta, so another tenant's
  first stage, queued a second later, goes ahead of all but the first one;
- priority: a class ranks ``CLASS_GAP`` ahead of the class below it (plan tiers map to
  classes in ``settings.priority.plans``). A message that has waited ``CLASS_GAP`` ranks with
  fresh messages one class up (aging: a low class is never starved forever);
- deferred messages (``defer_s``, ARQ's own ``Retry``) and ARQ's cron messages keep ARQ's
  natural score (ready time); ``promote_due`` (the worker's queue keeper, every second) gives
  them their fair score once due, crons the top (system) class.

    await enqueue_stage(job.id, Stage.INGEST, attempt=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from app.config import Settings, get_settings
from app.models.enums import Stage

CPU_QUEUE = "recap:queue:cpu"
GPU_QUEUE = "recap:queue:gpu"
QUEUES = (CPU_QUEUE, GPU_QUEUE)
STAGE_FUNCTION = "run_stage"

#: Fair scores lie within this window before now (a tenant's backlog spreads over it).
FAIR_WINDOW_MS = 3600 * 1000
#: Distance between priority classes (also the aging time of a waiting message).
CLASS_GAP_MS = 2 * FAIR_WINDOW_MS
#: Crons (reconciler, cleanup) rank above every stage.
SYSTEM_CLASS = 3
MESSAGE_TTL = timedelta(days=1)

# Virtual clock of one (queue, class, tenant): start = max(clock, now - window), capped at now.
_FAIR_START = """
local now = tonumber(ARGV[1])
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now - tonumber(ARGV[2]))
if start > now then start = now end
redis.call('SET', KEYS[1], start + tonumber(ARGV[3]), 'PX', tonumber(ARGV[2]) * 2)
return start
"""

# Ready / running / deferred counts and the oldest ready enqueue time of one ARQ queue.
_QUEUE_STATS = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local running, ready, oldest = 0, 0, -1
for _, id in ipairs(ids) do
  if redis.call('EXISTS', 'arq:in-progress:' .. id) == 1 then
    running = running + 1
  else
    ready = ready + 1
    local raw = redis.call('GET', 'arq:job:' .. id)
    if raw then
      local ok, d = pcall(cjson.decode, raw)
      if ok and type(d) == 'table' and d['et'] and (oldest < 0 or d['et'] < oldest) then oldest = d['et'] end
    end
  end
end
return {ready, running, redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf'), oldest}
"""

_pool: ArqRedis | None = None
_pool_url: str | None = None


def serialize(data: dict[str, Any]) -> bytes:
    """JSON, not pickle: a queue message must never execute code."""
    return json.dumps(data, default=str).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("queue message is not an object")
    return value


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = 10
    settings.conn_retry_delay = 1
    return settings


def now_ms() -> int:
    return int(time.time() * 1000)


def class_for_plan(plan: str | None, settings: Settings) -> int:
    return settings.priority.plans.get(plan or "", settings.priority.default_class)


async def fair_score(redis: Any, queue: str, tenant: str, klass: int, *, quantum_ms: int,
                     now: int | None = None) -> int:
    """The score of a message of ``tenant`` in priority class ``klass`` queued now (see the module doc)."""
    now = now_ms() if now is None else now
    start = int(await redis.eval(_FAIR_START, 1, f"recap:fair:{queue}:{klass}:{tenant}", now, FAIR_WINDOW_MS,
                                 quantum_ms))
    return start - (klass + 1) * CLASS_GAP_MS


def _at(score_ms: int) -> datetime:
    return datetime.fromtimestamp(score_ms / 1000, UTC)


def queue_for(stage: Stage) -> str:
    return GPU_QUEUE if stage is Stage.UPSCALE else CPU_QUEUE


async def get_pool(settings: Settings | None = None) -> ArqRedis:
    global _pool, _pool_url
    settings = settings or get_settings()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set (the CLI starts an embedded server when it is unset)")
    if _pool is None or _pool_url != settings.redis_url:
        if _pool is not None:  # another Redis (tests, failover): the old one may be gone, do not wait on it
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_pool.aclose(), 2.0)
        _pool = await create_pool(redis_settings(settings.redis_url), job_serializer=serialize,
                                  job_deserializer=deserialize, default_queue_name=CPU_QUEUE)
        _pool_url = settings.redis_url
    return _pool


def drop_orphaned_messages(redis_url: str, queue: str = CPU_QUEUE) -> int:
    """Drop queue messages whose worker was SIGKILLed; returns how many (tests and fault drills use it).

    Such a message stays "in progress" for the job timeout (hours). Other workers skip it (leases re-queue
    the stage under a new id), but a *burst* worker would wait for the queue to empty.
    """
    import redis as sync_redis

    client = sync_redis.Redis.from_url(redis_url)
    dropped = 0
    try:
        members: list[bytes] = client.zrange(queue, 0, -1)  # type: ignore[assignment]  # sync client
        for raw in members:
            job_id = raw.decode()
            if client.exists(f"arq:in-progress:{job_id}"):
                client.zrem(queue, job_id)
                client.delete(f"arq:in-progress:{job_id}", f"arq:job:{job_id}")
                dropped += 1
    finally:
        client.close()
    return dropped


async def close_pool() -> None:
    global _pool, _pool_url
    if _pool is not None:
        await _pool.aclose()
    _pool, _pool_url = None, None


async def enqueue_stage(job_id: UUID | str, stage: Stage, *, attempt: int = 1, defer_s: float = 0.0,
                        settings: Settings | None = None) -> bool:
    """Queue one stage run; False when that exact attempt is already queued (dedupe).

    The message carries ``meta``: tenant id, priority class, enqueue time and the trace context.
    """
    from app.metrics import JOBS_STARTED
    from app.tracing import inject_context, tracer

    settings = settings or get_settings()
    pool = await get_pool(settings)
    queue = queue_for(stage)
    with tracer().start_as_current_span(f"enqueue {stage.value}", attributes={"recap.stage": stage.value}):
        tenant, plan = await _tenant_plan(job_id)
        klass = class_for_plan(plan, settings)
        meta = {"tenant": tenant, "class": klass, "enqueued_ms": now_ms(), "trace": inject_context()}
        if defer_s:
            options: dict[str, Any] = {"_defer_by": defer_s}  # natural time; promote_due re-scores it when due
        else:
            score = await fair_score(pool, queue, tenant, klass, quantum_ms=settings.priority.fair_share_quantum_ms)
            options = {"_defer_until": _at(score), "_expires": MESSAGE_TTL}
        job = await pool.enqueue_job(STAGE_FUNCTION, str(job_id), stage.value, meta=meta,
                                     _job_id=f"{job_id}:{stage.value}:{attempt}", _queue_name=queue, **options)
    if job is not None and stage is Stage.INGEST and attempt == 1:
        JOBS_STARTED.labels(str(klass)).inc()
    return job is not None


async def _tenant_plan(job_id: UUID | str) -> tuple[str, str | None]:
    """(tenant id, plan) of a job; ("-", None) when it cannot be read (the message still goes out)."""
    from app.db import system_tx

    try:
        async with system_tx() as conn:
            rows = await conn.execute_query_dict(
                "SELECT j.tenant_id, t.plan FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE j.id = $1",
                [str(job_id)])
    except Exception:  # no ORM in this process, or a bad id: fairness falls back to one shared bucket
        return "-", None
    return (str(rows[0]["tenant_id"]), rows[0]["plan"]) if rows else ("-", None)


async def promote_due(redis: Any, queue: str, settings: Settings, *, limit: int = 500) -> int:
    """Give due messages that still have ARQ's natural score (deferred, retried, cron) their fair score."""
    now = now_ms()
    ids = await redis.zrangebyscore(queue, now - CLASS_GAP_MS, now, start=0, num=limit)
    moved = 0
    for raw_id in ids:
        job_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        if await redis.exists(f"arq:in-progress:{job_id}"):
            continue
        payload = await redis.get(f"arq:job:{job_id}")
        if payload is None:
            continue
        with contextlib.suppress(ValueError):
            message = deserialize(payload)
            meta = (message.get("k") or {}).get("meta") or {}
            if message.get("f") == STAGE_FUNCTION:
                score = await fair_score(redis, queue, str(meta.get("tenant", "-")),
                                         int(meta.get("class", settings.priority.default_class)),
                                         quantum_ms=settings.priority.fair_share_quantum_ms, now=now)
            else:
                score = now - (SYSTEM_CLASS + 1) * CLASS_GAP_MS
            moved += int(await redis.zadd(queue, {job_id: score}, xx=True, ch=True))
    return moved


async def queue_stats(redis: Any, queue: str = CPU_QUEUE, *, limit: int = 10000) -> dict[str, float]:
    """``ready`` (waiting for a worker), ``running``, ``deferred`` message counts and ``oldest_ready_age_s``.

    ARQ keeps a message in its sorted set while it runs, so ZCARD (KEDA's redis scaler) counts
    running and deferred messages too; ``ready`` is what a new worker would take.
    """
    now = now_ms()
    ready, running, deferred, oldest = await redis.eval(_QUEUE_STATS, 1, queue, now, limit)
    return {"ready": float(ready), "running": float(running), "deferred": float(deferred),
            "oldest_ready_age_s": max(0.0, (now - int(oldest)) / 1000) if int(oldest) >= 0 else 0.0}


async def queue_depth(stage_queue: str = CPU_QUEUE, settings: Settings | None = None) -> int:
    pool = await get_pool(settings)
    return int(await pool.zcard(stage_queue))


async def enqueue_task(function: str, *args: Any, defer_s: float = 0.0, task_id: str | None = None,
                       settings: Settings | None = None) -> bool:
    """Queue a maintenance task of the CPU worker (exports, purges); False when ``task_id`` is already queued."""
    pool = await get_pool(settings)
    job = await pool.enqueue_job(function, *args, _job_id=task_id, _queue_name=CPU_QUEUE,
                                 _defer_by=defer_s or None)
    return job is not None
