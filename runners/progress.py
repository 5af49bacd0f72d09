"""Progress from media threads to subscribers: throttled, numbered, published on Redis.

Media work runs in a thread and calls ``reporter.progress(0.42)`` as often as it likes;
the reporter keeps only the latest value and the event loop publishes at most every
``interval`` seconds (plus every state change), each event with the job's next ``seq``.

    reporter = ProgressReporter(loop, emit, stage="analyse")
    await asyncio.to_thread(work, progress=reporter.progress)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.events import ProgressEvent, publish
from runners.state import next_seq

log = logging.getLogger(__name__)

EmitFn = Callable[[str | None, str, float, str, str], Awaitable[None]]


class Emitter:
    """Publishes numbered events for one job."""

    def __init__(self, redis: aioredis.Redis, job_id: UUID, project_id: UUID) -> None:
        self.redis, self.job_id, self.project_id = redis, job_id, project_id

    async def __call__(self, stage: str | None, state: str, progress: float, message: str = "",
                       kind: str = "progress") -> None:
        seq = await next_seq(self.job_id)
        event = ProgressEvent(str(self.job_id), str(self.project_id), seq, stage, state,
                              round(max(0.0, min(1.0, progress)), 4), message, kind)
        try:
            await publish(self.redis, event)
        except (RedisError, OSError) as ex:
            # Events are best effort: PostgreSQL has the state, and subscribers resync from it.
            log.warning("progress event %s of job %s not published: %s", seq, self.job_id, ex)


class ProgressReporter:
    """Thread-safe progress sink; the loop side publishes the latest value, throttled."""

    def __init__(self, emit: EmitFn, stage: str, *, interval: float = 0.5) -> None:
        self._emit, self._stage, self._interval = emit, stage, interval
        self._lock = threading.Lock()
        self._value = 0.0
        self._message = ""
        self._dirty = False
        self._last = 0.0

    def progress(self, fraction: float, message: str | None = None) -> None:
        with self._lock:
            self._value = max(self._value, min(1.0, float(fraction)))
            if message is not None:
                self._message = message
            self._dirty = True

    @property
    def value(self) -> float:
        return self._value

    async def flush(self, force: bool = False) -> None:
        with self._lock:
            if not self._dirty or (not force and time.monotonic() - self._last < self._interval):
                return
            value, message, self._dirty = self._value, self._message, False
            self._last = time.monotonic()
        await self._emit(self._stage, "running", value, message, "progress")

    async def pump(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            await self.flush()
