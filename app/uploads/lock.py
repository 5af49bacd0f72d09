"""One request at a time per upload, across API pods: a Redis lock with a token and a TTL.

The holder refreshes the TTL while a long PATCH streams; a crashed holder's lock lapses.

    lock = UploadLock(get_redis(), upload_id)
    if not await lock.acquire(): answer 423
    try: ... await lock.refresh() ...
    finally: await lock.release()
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from uuid import UUID

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class UploadLock:
    def __init__(self, redis: Any, upload_id: UUID | str, *, ttl_ms: int = 30_000) -> None:
        self.redis = redis
        self.key = f"recap:upload:lock:{upload_id}"
        self.token = uuid.uuid4().hex
        self.ttl_ms = ttl_ms
        self._refreshed = 0.0

    async def acquire(self) -> bool:
        ok = await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
        self._refreshed = time.monotonic()
        return bool(ok)

    async def refresh(self) -> None:
        """Push the TTL out again, at most every third of it."""
        if time.monotonic() - self._refreshed >= self.ttl_ms / 3000:
            await self.redis.eval(_REFRESH, 1, self.key, self.token, str(self.ttl_ms))
            self._refreshed = time.monotonic()

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.token)
