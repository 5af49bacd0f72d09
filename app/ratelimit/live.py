"""Caps on live things (websocket connections per IP, subscriptions per user), shared by every API pod.

Each live thing is a member of a Redis sorted set whose score is its expiry; a heartbeat pushes the
expiry on while it lives, so the slots of a crashed pod free themselves within ``TTL_S``. Entering
is one transaction (drop expired, add, count) and backs out when over the cap.

    async with live_slot(f"subs:user:{user_id}", cap=50, what="subscriptions per user"):
        ...                                         # RateLimitedError when the cap is reached
    async with subscription_slot(principal, settings): ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from app.auth.principal import Principal
from app.config import Settings
from app.errors import RateLimitedError
from app.ratelimit.limiter import KEY_PREFIX
from app.redis import get_redis

log = logging.getLogger("recap.ratelimit")
TTL_S = 60.0
#: What a refused client is told to wait: a slot frees when one of its own ends, which we cannot predict.
RETRY_AFTER_S = 30


class LiveSlot:
    """One member of a capped live set; ``await enter()`` then ``await leave()`` (or ``async with``)."""

    def __init__(self, key: str, cap: int, what: str) -> None:
        self.key = f"{KEY_PREFIX}:live:{key}"
        self.cap = cap
        self.what = what
        self.member = uuid.uuid4().hex
        self._heartbeat: asyncio.Task[None] | None = None
        self._client: Any = None

    async def enter(self) -> None:
        """Take a slot; RateLimitedError when ``cap`` live members exist (Redis down: let it in, warn)."""
        try:
            self._client = get_redis()
            now = time.time()
            pipe = self._client.pipeline(transaction=True)
            pipe.zremrangebyscore(self.key, "-inf", now)
            pipe.zadd(self.key, {self.member: now + TTL_S})
            pipe.zcard(self.key)
            pipe.expire(self.key, int(TTL_S) + 5)
            _, _, count, _ = await pipe.execute()
            if count > self.cap:
                await self._client.zrem(self.key, self.member)
                raise RateLimitedError(f"at most {self.cap} {self.what}; retry in {RETRY_AFTER_S} s",
                                       retry_after=RETRY_AFTER_S)
        except (RedisError, OSError) as ex:
            log.warning("live-slot cap %s unavailable, letting it in: %s", self.key, ex)
            return
        self._heartbeat = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(TTL_S / 3)
            try:
                now = time.time()
                pipe = self._client.pipeline(transaction=True)
                pipe.zadd(self.key, {self.member: now + TTL_S})
                pipe.expire(self.key, int(TTL_S) + 5)
                await pipe.execute()
            except (RedisError, OSError) as ex:  # keep beating: the slot expires by itself if Redis stays away
                log.warning("live-slot heartbeat of %s failed: %s", self.key, ex)

    async def leave(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
            try:
                await self._client.zrem(self.key, self.member)
            except (RedisError, OSError) as ex:
                log.warning("could not free live slot %s (it expires in %.0f s): %s", self.key, TTL_S, ex)

    async def __aenter__(self) -> LiveSlot:
        await self.enter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.leave()


def live_slot(key: str, *, cap: int, what: str) -> LiveSlot:
    return LiveSlot(key, cap, what)


@contextlib.asynccontextmanager
async def subscription_slot(principal: Principal, settings: Settings) -> AsyncIterator[None]:
    """Hold one of the user's ``max_subscriptions_per_user`` slots while a subscription runs."""
    if not settings.ratelimit.enabled:
        yield
        return
    async with live_slot(f"subs:user:{principal.user_id}", cap=settings.ratelimit.max_subscriptions_per_user,
                         what="live subscriptions per user"):
        yield
