"""The process's Redis client (queue, pub/sub, rate limits), made once from ``settings.redis_url``.

    client = get_redis()
    await client.ping()
    await close_redis()        # at shutdown (the app's lifespan does it)
"""

from __future__ import annotations

import redis.asyncio as aioredis

from app.config import Settings, get_settings

_client: aioredis.Redis | None = None


def get_redis(settings: Settings | None = None) -> aioredis.Redis:
    """The shared client (created on first use; ``settings`` only matters then)."""
    global _client
    if _client is None:
        url = (settings or get_settings()).redis_url
        if not url:
            raise RuntimeError("REDIS_URL is not set (the CLI starts the embedded server when it is unset)")
        _client = aioredis.Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5)
    return _client


async def close_redis() -> None:
    """Close the shared client; the next ``get_redis()`` makes a new one."""
    global _client
    client, _client = _client, None
    if client is not None:
        await client.aclose()
