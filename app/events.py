"""Progress events: published on Redis pub/sub, fanned out to subscribers in each API process.

Postgres holds the job's state; Redis carries events. Each process keeps ONE pub/sub
connection (the hub) and fans messages out to in-process queues, so 500 websocket
subscribers cost 500 queues, not 500 Redis connections. When Redis drops, the hub
reconnects and sends every listener a ``resync`` marker: the subscriber re-reads the
snapshot from Postgres, and ``seq`` lets it drop what it has seen.

    await publish(redis, ProgressEvent(job_id=..., project_id=..., seq=7, stage="align", ...))
    async with hub.listen(job_channel(job_id)) as queue: event = await queue.get()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RESYNC = "resync"


def job_channel(job_id: object) -> str:
    return f"recap:job:{job_id}"


def project_channel(project_id: object) -> str:
    return f"recap:project:{project_id}"


def cancel_key(job_id: object) -> str:
    return f"recap:cancel:{job_id}"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    job_id: str
    project_id: str
    seq: int
    stage: str | None
    state: str
    progress: float
    message: str = ""
    kind: str = "progress"  # progress | stage | job | resync
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProgressEvent:
        return cls(str(data["job_id"]), str(data["project_id"]), int(data["seq"]), data.get("stage"),
                   str(data["state"]), float(data["progress"]), str(data.get("message", "")),
                   str(data.get("kind", "progress")), str(data.get("at", "")))


def resync_event(job_id: str = "", project_id: str = "") -> ProgressEvent:
    return ProgressEvent(job_id, project_id, -1, None, RESYNC, 0.0, "event stream reconnected", RESYNC)


async def publish(client: aioredis.Redis, event: ProgressEvent) -> None:
    payload = json.dumps(event.to_json())
    async with client.pipeline(transaction=False) as pipe:
        pipe.publish(job_channel(event.job_id), payload)
        pipe.publish(project_channel(event.project_id), payload)
        await pipe.execute()


class EventHub:
    """One Redis pub/sub connection per process, fanned out to asyncio queues.

    ``listen`` returns only once Redis has CONFIRMED the subscription, so an event published
    after it returns is never missed: a subscriber that then reads its snapshot cannot lose
    the events in between. One coroutine connects (under the lock), one coroutine reads.
    """

    def __init__(self, url: str, *, queue_size: int = 1000, confirm_timeout: float = 5.0) -> None:
        self._url = url
        self._queue_size = queue_size
        self._confirm_timeout = confirm_timeout
        self._listeners: dict[str, set[asyncio.Queue[ProgressEvent]]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: Any = None
        self._client: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[ProgressEvent]]:
        queue: asyncio.Queue[ProgressEvent] = asyncio.Queue(self._queue_size)
        async with self._lock:
            group = self._listeners.setdefault(channel, set())
            first = not group
            group.add(queue)
            if first:
                self._confirmed[channel] = asyncio.Event()
            await self._ensure_running()
            if first:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.subscribe(channel)
            confirmed = self._confirmed[channel]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), self._confirm_timeout)
        try:
            yield queue
        finally:
            async with self._lock:
                group = self._listeners.get(channel, set())
                group.discard(queue)
                if not group:
                    self._listeners.pop(channel, None)
                    self._confirmed.pop(channel, None)
                    with contextlib.suppress(RedisError, OSError, AttributeError):
                        await self._pubsub.unsubscribe(channel)

    async def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._client = aioredis.Redis.from_url(self._url)
            self._pubsub = self._client.pubsub()
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.connect()
            self._task = asyncio.create_task(self._run(), name="recap-event-hub")

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                if not self._listeners or self._pubsub.connection is None:
                    await asyncio.sleep(0.05)
                    if self._listeners and self._pubsub.connection is None:
                        raise ConnectionError("pub/sub not connected")
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
                delay = 0.2
                if message is not None:
                    self._handle(message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as ex:
                log.warning("event hub lost Redis (%s); reconnecting", ex)
                await self._reconnect(delay)
                delay = min(delay * 2, 5.0)

    async def _reconnect(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            assert self._client is not None
            self._pubsub = self._client.pubsub()
            try:
                await self._pubsub.connect()
                if self._listeners:
                    await self._pubsub.subscribe(*self._listeners)
            except (RedisError, OSError):
                return
        for channel in list(self._listeners):
            self._fanout(channel, resync_event())

    def _handle(self, message: dict[str, Any]) -> None:
        raw = message.get("channel")
        channel = raw.decode() if isinstance(raw, bytes) else str(raw)
        kind = message.get("type")
        if kind == "subscribe":
            confirmed = self._confirmed.get(channel)
            if confirmed is not None:
                confirmed.set()
        elif kind == "message":
            self._dispatch(channel, message["data"])

    def _dispatch(self, channel: str, data: Any) -> None:
        try:
            event = ProgressEvent.from_json(json.loads(data))
        except (ValueError, KeyError, TypeError):
            log.warning("dropped a malformed event on %s", channel)
            return
        self._fanout(channel, event)

    def _fanout(self, channel: str, event: ProgressEvent) -> None:
        for queue in list(self._listeners.get(channel, ())):
            if queue.full():  # a slow consumer loses old events, then resyncs from the snapshot
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(resync_event(event.job_id, event.project_id))
                continue
            queue.put_nowait(event)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):
            if self._pubsub is not None:
                await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()
        self._task = None


_hubs: dict[str, EventHub] = {}


def get_hub(url: str) -> EventHub:
    hub = _hubs.get(url)
    if hub is None:
        hub = _hubs[url] = EventHub(url)
    return hub


async def close_hubs() -> None:
    for hub in list(_hubs.values()):
        await hub.close()
    _hubs.clear()
