"""Login throttling in Redis: a sliding window of failed attempts per account and per client IP.

Each attempt adds a timestamped member to a sorted set; attempts older than the window fall out.
An account is locked after ``login_max_attempts`` attempts within ``login_window_seconds``; an IP after
``IP_FACTOR`` times that (many users can share an office NAT).

Check-and-count is ONE atomic step (a Lua script): :meth:`LoginThrottle.reserve` counts the attempt
BEFORE the password hash is checked, or refuses it. So N guesses sent in parallel cannot all pass a
check that none of them has counted yet: at most ``login_max_attempts`` reach the hash. A successful
login gives its slot back (:meth:`LoginThrottle.succeeded`); a failed one keeps it.

    throttle = LoginThrottle(redis, settings.auth)
    slot = await throttle.reserve(email, ip)    # raises RateLimitedError; counts this attempt
    await throttle.succeeded(email, ip, slot)   # after a successful login (forgets the account's failures)
    await throttle.register_attempt(ip)         # registrations per IP
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from typing import Any

from app.config import AuthSettings
from app.errors import RateLimitedError
from app.services.text import normalize_email

IP_FACTOR = 5
#: Registrations per IP and window: every attempt counts (each one costs an argon2 hash).
REGISTER_FACTOR = 20
_PREFIX = "recap:login"

# KEYS: the sorted sets; ARGV: now, window, member, then one limit per key.
# Returns {0, ""} when the attempt was counted in every key, else {index of the full key, oldest score}.
_RESERVE_LUA = """
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {i, oldest[2] or ARGV[1]}
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(window) + 1)
end
return {0, ''}
"""


def _account_key(email: str) -> str:
    return f"{_PREFIX}:acct:{hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]}"


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

    def _limited(self, oldest: float, now: float) -> RateLimitedError:
        retry = max(1, math.ceil(oldest + self._window - now))
        return RateLimitedError(f"too many failed logins; retry in {retry} s", retry_after=retry)

    async def reserve(self, email: str, ip: str | None) -> str:
        """Count one login attempt for the account and the IP, atomically with the limit check.

        Returns:
            The attempt's slot, for :meth:`succeeded`.

        Raises:
            RateLimitedError: the account or the IP used up its attempts in the window (nothing counted).
        """
        now = time.time()
        keys = self._keys(email, ip)
        slot = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
        full, oldest = await self._redis.eval(_RESERVE_LUA, len(keys), *(k for k, _ in keys), now, self._window,
                                              slot, *(limit for _, limit in keys))
        if int(full):
            raise self._limited(float(oldest), now)
        return slot

    async def succeeded(self, email: str, ip: str | None, slot: str) -> None:
        """A reserved attempt logged in: forget the account's failures and give the IP its slot back."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(_account_key(email))
        if ip:
            pipe.zrem(_ip_key(ip), slot)
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
