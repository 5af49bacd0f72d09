"""The chunk board remote GPU workers pull from: one Redis hash per job, one expiring claim per chunk.

The upscale stage (on a coordinating worker of the ``gpu`` queue) publishes a job's chunks; a remote
worker claims one (``SET NX EX``: a preempted notebook's claim simply expires and the chunk goes to the
next worker), uploads its segment, and the chunk is marked done with the segment's sha256::

    await publish(redis, job_id, {"model": ..., "video": {...}}, chunks)
    work = await claim(redis, "colab-1", lease_s=120)   # {"job_id", "chunk", "model", ...} or None
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

JOBS = "recap:upscale:jobs"


def _chunks(job_id: str) -> str:
    return f"recap:upscale:{job_id}:chunks"


def _done(job_id: str) -> str:
    return f"recap:upscale:{job_id}:done"


def _meta(job_id: str) -> str:
    return f"recap:upscale:{job_id}:meta"


def _claim(job_id: str, index: int) -> str:
    return f"recap:upscale:{job_id}:claim:{index}"


async def publish(redis: aioredis.Redis, job_id: str, meta: dict[str, Any], chunks: list[dict[str, Any]]) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_meta(job_id), json.dumps(meta))
        pipe.delete(_chunks(job_id))
        for chunk in chunks:
            pipe.hset(_chunks(job_id), str(chunk["index"]), json.dumps(chunk))
        pipe.sadd(JOBS, job_id)
        await pipe.execute()


async def withdraw(redis: aioredis.Redis, job_id: str) -> None:
    keys = [_meta(job_id), _chunks(job_id), _done(job_id)]
    keys += [k async for k in redis.scan_iter(match=_claim(job_id, 0)[:-1] + "*")]
    await redis.delete(*keys)
    await redis.srem(JOBS, job_id)  # type: ignore[misc]


async def done(redis: aioredis.Redis, job_id: str) -> dict[int, dict[str, Any]]:
    raw = await redis.hgetall(_done(job_id))  # type: ignore[misc]
    return {int(k): json.loads(v) for k, v in raw.items()}


async def undo(redis: aioredis.Redis, job_id: str, index: int) -> None:
    """A segment that did not check out goes back on the board."""
    await redis.hdel(_done(job_id), str(index))  # type: ignore[misc]


async def claim(redis: aioredis.Redis, worker_id: str, *, lease_s: int) -> dict[str, Any] | None:
    for job in sorted(j.decode() if isinstance(j, bytes) else j for j in await redis.smembers(JOBS)):  # type: ignore[misc]
        finished = await redis.hkeys(_done(job))  # type: ignore[misc]
        finished_set = {int(k) for k in finished}
        for key, value in sorted((await redis.hgetall(_chunks(job))).items(), key=lambda kv: int(kv[0])):  # type: ignore[misc]
            index = int(key)
            if index in finished_set:
                continue
            if await redis.set(_claim(job, index), worker_id, nx=True, ex=lease_s):
                meta = json.loads(await redis.get(_meta(job)) or "{}")
                return {"job_id": job, "chunk": json.loads(value), **meta, "lease_s": lease_s}
    return None


async def holds(redis: aioredis.Redis, worker_id: str, job_id: str, index: int) -> bool:
    owner = await redis.get(_claim(job_id, index))
    return owner is not None and (owner.decode() if isinstance(owner, bytes) else owner) == worker_id


async def extend(redis: aioredis.Redis, worker_id: str, job_id: str, index: int, *, lease_s: int) -> bool:
    if not await holds(redis, worker_id, job_id, index):
        return False
    return bool(await redis.expire(_claim(job_id, index), lease_s))


async def release(redis: aioredis.Redis, worker_id: str, job_id: str, index: int) -> None:
    if await holds(redis, worker_id, job_id, index):
        await redis.delete(_claim(job_id, index))


async def complete(redis: aioredis.Redis, worker_id: str, job_id: str, index: int, record: dict[str, Any]) -> None:
    await redis.hset(_done(job_id), str(index), json.dumps({**record, "worker": worker_id}))  # type: ignore[misc]
    await redis.delete(_claim(job_id, index))
