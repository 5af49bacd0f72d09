"""GPU worker heartbeats: one Redis key per worker that expires, so "recently" needs no clock maths.

A local GPU worker (``recap worker --queue gpu``) beats from a cron; a remote one (Colab) through
``POST /gpu/heartbeat``. ``startRender`` accepts ``upscale`` only while some key is alive.
"""

from __future__ import annotations

import redis.asyncio as aioredis

PREFIX = "recap:gpu:worker:"
#: A worker that has not beaten for this long is gone.
ALIVE_S = 60


async def record_heartbeat(redis: aioredis.Redis, worker_id: str, *, ttl_s: int = ALIVE_S) -> None:
    await redis.set(f"{PREFIX}{worker_id}", "1", ex=ttl_s)


async def gpu_worker_alive(redis: aioredis.Redis) -> bool:
    async for _key in redis.scan_iter(match=f"{PREFIX}*", count=100):
        return True
    return False


async def forget_worker(redis: aioredis.Redis, worker_id: str) -> None:
    await redis.delete(f"{PREFIX}{worker_id}")
