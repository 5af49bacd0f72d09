"""Request and cost limits in Redis through the ``limits`` library.

Requests use the moving window (exact: one Redis list entry per request, fine for hundreds per
minute); the GraphQL cost budget uses the sliding-window counter (two counters per key, so a
budget of a million units costs no more than one of ten). Redis trouble fails open, with a warning:
a limiter outage must not become an API outage.

    limiter = Limiter(settings.ratelimit)
    await limiter.hit("api", f"tenant:{tenant_id}", per_minute=300)      # RateLimitedError past it
    await limiter.spend("cost", f"tenant:{tenant_id}", cost=812, per_minute=50_000)
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from redis.exceptions import RedisError

from app.config import RateLimitSettings
from app.errors import RateLimitedError
from app.redis import get_redis

log = logging.getLogger("recap.ratelimit")
KEY_PREFIX = "recap:rl"


class Limiter:
    """Counts hits per (bucket, key) on the process's shared Redis client (rebuilt when that client is)."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._client: Any = None
        self._moving: RateLimiter | None = None
        self._sliding: RateLimiter | None = None

    def _strategies(self) -> tuple[RateLimiter, RateLimiter]:
        client = get_redis()
        if client is not self._client or self._moving is None or self._sliding is None:
            pool: Any = client.connection_pool  # share the process's pool: closed with it at shutdown
            storage = RedisStorage("async+redis://", implementation="redispy", key_prefix=KEY_PREFIX,
                                   connection_pool=pool)
            self._client = client
            self._moving = MovingWindowRateLimiter(storage)
            self._sliding = SlidingWindowCounterRateLimiter(storage)
        return self._moving, self._sliding

    async def hit(self, bucket: str, key: str, *, per_minute: int) -> None:
        """Count one request; RateLimitedError when ``key`` used ``per_minute`` (0 = unlimited) already."""
        if per_minute > 0:
            await self._take(0, RateLimitItemPerMinute(per_minute), bucket, key, 1)

    async def spend(self, bucket: str, key: str, *, cost: int, per_minute: int) -> None:
        """Take ``cost`` units of a per-minute budget; RateLimitedError when they are not left."""
        if per_minute > 0 and cost > 0:
            await self._take(1, RateLimitItemPerMinute(per_minute), bucket, key, cost)

    async def _take(self, which: int, item: RateLimitItem, bucket: str, key: str, cost: int) -> None:
        try:
            strategy = self._strategies()[which]
            if await strategy.hit(item, bucket, key, cost=cost):
                return
            stats = await strategy.get_window_stats(item, bucket, key)
        except (RedisError, OSError) as ex:
            log.warning("rate limiter unavailable, letting %s %s through: %s", bucket, key, ex)
            return
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        if cost > item.amount:  # never fits: say when a whole window is free
            retry = max(retry, item.get_expiry())
        raise RateLimitedError(f"rate limit of {item.amount} per minute reached for {bucket}; retry in {retry} s",
                               retry_after=retry)
