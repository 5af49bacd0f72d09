"""The one module that knows the job queue (ARQ). Everything else calls ``enqueue_stage``.

ARQ may run a job more than once and has no priorities; Postgres holds the truth
(``StageRun``), stages are idempotent, and the reconciler re-enqueues lost work. Replacing
ARQ means rewriting this module and ``runners/worker.py`` only.

    await enqueue_stage(job.id, Stage.INGEST, attempt=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from uuid import UUID

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from app.config import Settings, get_settings
from app.models.enums import Stage

CPU_QUEUE = "recap:queue:cpu"
GPU_QUEUE = "recap:queue:gpu"
STAGE_FUNCTION = "run_stage"

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


async def close_pool() -> None:
    global _pool, _pool_url
    if _pool is not None:
        await _pool.aclose()
    _pool, _pool_url = None, None


async def enqueue_stage(job_id: UUID | str, stage: Stage, *, attempt: int = 1, defer_s: float = 0.0,
                        settings: Settings | None = None) -> bool:
    """Queue one stage run; False when that exact attempt is already queued (dedupe)."""
    pool = await get_pool(settings)
    job = await pool.enqueue_job(STAGE_FUNCTION, str(job_id), stage.value,
                                 _job_id=f"{job_id}:{stage.value}:{attempt}",
                                 _queue_name=queue_for(stage), _defer_by=defer_s or None)
    return job is not None


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
