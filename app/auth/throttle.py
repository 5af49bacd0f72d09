"""Login throttling in Redis: a sliding window of failed attempts per account and per client IP.

Each failed attempt adds a timestamped member to a sorted set; attempts older than the window
fall out. An account is locked after ``login_max_attempts`` failures within ``login_window_seconds``;
an IP after ``IP_FACTOR`` times that (many users can share an office NAT).

    throttle = LoginThrottle(redis, settings.auth)
    await throttle.check(email, ip)        # raises RateLimitedError
    await throttle.record_failure(email, ip)
    await throttle.reset(email)            # after a successful login
    await throttle.register_attempt(ip)    # registrations per IP
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from typing import Any

from app.config import AuthSettings
from app.errors import RateLimitedError

IP_FACTOR = 5
#: Registrations per IP and window: every attempt counts (each one costs an argon2 hash).
REGISTER_FACTOR = 20
_PREFIX = "recap:login"


def _account_key(email: str) -> str:
    return f"{_PREFIX}:acct:{hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:32]}"


def _ip_key(ip: str) -> str:
    return f"{_PREFIX}:ip:{ip}"


class LoginThrottle:
    def __init__(self, redis: Any, auth: AuthSettings) -> None:
        self._redis = redis
        self._window = auth.login_window_seconds
        self._limits = {"acct": auth.login_max_attempts, "ip": auth.login_max_attempts * IP_FACTOR}

    def _keys(self, email: str, ip: str | None) -> list[tuple[str, int]]:
        keys = [(_account_key(email), self._limits["acct"])]
        if ip:
            keys.append((_ip_key(ip), self._limits["ip"]))
        return keys

    async def check(self, email: str, ip: str | None) -> None:
        """Raise RateLimitedError when the account or the IP used up its failures in the window."""
        now = time.time()
        pipe = self._redis.pipeline(transaction=False)
        keys = self._keys(email, ip)
        for key, _ in keys:
            pipe.zremrangebyscore(key, 0, now - self._window)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
        results = await pipe.execute()
        for index, (_, limit) in enumerate(keys):
            count, oldest = results[index * 3 + 1], results[index * 3 + 2]
            if count >= limit:
                first = float(oldest[0][1]) if oldest else now
                retry = max(1, math.ceil(first + self._window - now))
                raise RateLimitedError(f"too many failed logins; retry in {retry} s", retry_after=retry)

    async def record_failure(self, email: str, ip: str | None) -> None:
        """Count one failed attempt for the account and the IP."""
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        for key, _ in self._keys(email, ip):
            pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
            pipe.expire(key, self._window + 1)
        await pipe.execute()

    async def hit(self, bucket: str, ip: str | None, limit: int) -> None:
        """Count one attempt at ``bucket`` (e.g. ``register``) from ``ip``; RateLimitedError past ``limit``."""
        if not ip:
            return
        key = f"{_PREFIX}:{bucket}:{ip}"
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, 0, now - self._window)
        pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
        pipe.expire(key, self._window + 1)
        _, _, count, oldest, _ = await pipe.execute()
        if count > limit:
            first = float(oldest[0][1]) if oldest else now
            retry = max(1, math.ceil(first + self._window - now))
            raise RateLimitedError(f"too many attempts from your address; retry in {retry} s", retry_after=retry)

    async def register_attempt(self, ip: str | None) -> None:
        """Count a registration from ``ip`` (``REGISTER_FACTOR`` x the login limit per window)."""
        await self.hit("register", ip, self._limits["acct"] * REGISTER_FACTOR)

    async def reset(self, email: str) -> None:
        """Forget the account's failures (a successful login); the IP's stay."""
        await self._redis.delete(_account_key(email))
