"""One request at a time per upload, across API pods: a Redis lock with a token and a TTL.

While held, a heartbeat task pushes the TTL out every third of it (a slow or stalled body
cannot lose the lock); a crashed holder's lock lapses after the TTL. A Redis blip shorter than
the lease costs nothing: a failed refresh is retried at the next beat, and a failed release
leaves the lock to lapse (the request that held it still succeeds).

    lock = UploadLock(get_redis(), upload_id)
    if not await lock.acquire(): answer 423
    try: ...
    finally: await lock.release()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any
from uuid import UUID

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

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
        self._heartbeat: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        """Take the lock (False when someone holds it) and start the heartbeat."""
        if not await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return False
        self._heartbeat = asyncio.create_task(self._beat())
        return True

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                await self.redis.eval(_REFRESH, 1, self.key, self.token, str(self.ttl_ms))
            except (RedisError, OSError) as ex:  # two more beats fit in the lease: try again at the next
                log.warning("upload lock %s: refresh failed (%s); retrying", self.key, ex)

    async def release(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        try:
            await self.redis.eval(_RELEASE, 1, self.key, self.token)
        except (RedisError, OSError) as ex:  # the work is done; the lock lapses after its TTL
            log.warning("upload lock %s: release failed (%s); it lapses in %d ms", self.key, ex, self.ttl_ms)
