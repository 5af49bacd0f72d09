"""Process lifecycle and Redis blips: shared storages, shutdown closes what startup opened, the upload
lock survives a blip inside its lease, projectEvents resyncs after an outage."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis

from app import events, queue
from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.main import create_app
from app.models import Artifact, Job, JobState, Project, Role, Stage, StageRun, StageState
from app.services import progress, review
from app.storage import shared as shared_storages
from app.storage.shared import close_shared_storages, shared_storage
from app.uploads.lock import UploadLock
from tests.storage.drive_env import FOLDER, write_service_account
from tests.storage.fake_drive import FakeDrive
from tests.uploads.tcp_proxy import TcpProxy

ALIGNMENT = {"version": 1, "sources": [{"id": "s0", "path": "m.mp4", "duration": 9.0}],
             "beats": [{"index": 0, "text": "a", "target_duration": 2.0, "confidence": 0.5,
                        "clips": [{"source": "s0", "start": 1.0, "end": 3.0, "score": 0.5}]}]}


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(redis_url)
    async with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379) as running:
        yield running


def _via(redis_url: str, proxy: TcpProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}{urlsplit(redis_url).path}"


async def _principal(tenant_factory: Any, user_factory: Any) -> tuple[Principal, Project]:
    tenant = await tenant_factory()
    user, _ = await user_factory(tenant, Role.EDITOR)
    async with system_tx():
        project = await Project.create(tenant_id=tenant.id, name="Film", created_by_id=user.id)
    return Principal(user.id, tenant.id, Role.EDITOR), project


async def test_review_reads_through_one_shared_storage(settings: Settings, tmp_path: Path, tenant_factory: Any,
                                                       user_factory: Any) -> None:
    """With Drive, a storage per call meant a new session and token per call, never closed."""
    server = FakeDrive()
    await server.start()
    try:
        creds = write_service_account(tmp_path / "sa.json", f"{server.base}/token")
        drive = settings.model_copy(update={"storage": settings.storage.model_copy(update={
            "backend": "gdrive", "gdrive_credentials_file": creds, "gdrive_folder_id": FOLDER,
            "gdrive_api_base": server.base})})
        principal, project = await _principal(tenant_factory, user_factory)
        async with system_tx():
            job = await Job.create(tenant_id=principal.tenant_id, project_id=project.id, state=JobState.RUNNING)
            art = await Artifact.create(tenant_id=principal.tenant_id, stage=Stage.ALIGN, content_hash="h" * 64,
                                        storage_key=f"intermediate/{job.id}/align")
            await StageRun.create(tenant_id=principal.tenant_id, job_id=job.id, stage=Stage.ALIGN,
                                  state=StageState.SUCCEEDED, artifact_id=art.id)
        storage = shared_storage(drive)
        (tmp_path / "alignment.json").write_text(json.dumps(ALIGNMENT))
        await storage.put_file(f"{art.storage_key}/alignment.json", tmp_path / "alignment.json")
        for _ in range(3):
            assert await review.get_alignment(principal, job.id, drive) == ALIGNMENT
        assert shared_storage(drive) is storage
        assert server.calls.count("token") == 1, server.calls  # one client, one token, for every call
    finally:
        await close_shared_storages()
        await server.stop()
    assert storage.http._session is None or storage.http._session.closed  # type: ignore[attr-defined]


async def test_shutdown_closes_hubs_pool_and_storages(settings: Settings, orm: None) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert settings.redis_url
        hub = events.get_hub(settings.redis_url)
        async with hub.listen(events.project_channel(uuid.uuid4())):
            pass
        await queue.get_pool(settings)
        assert shared_storage(settings) is app.state.storage
    assert events._hubs == {} and hub._task is None
    assert queue._pool is None
    assert shared_storages._storages == {}


async def test_lock_heartbeat_rides_out_a_redis_blip(redis_url: str, proxy: TcpProxy) -> None:
    client = aioredis.Redis.from_url(_via(redis_url, proxy), socket_connect_timeout=1)
    direct = aioredis.Redis.from_url(redis_url)
    lock = UploadLock(client, f"blip-{uuid.uuid4()}", ttl_ms=900)
    try:
        assert await lock.acquire()
        await asyncio.sleep(0.35)
        await proxy.cut(refuse_for=0.35)  # one or two refreshes fail; the lease (0.9 s) outlives the blip
        await asyncio.sleep(1.6)  # well past the TTL: only a heartbeat that kept going holds the lock
        assert await direct.get(lock.key) == lock.token.encode()
        await proxy.cut(refuse_for=5.0)
        await lock.release()  # Redis unreachable at release: the request still succeeds
        assert await direct.get(lock.key) == lock.token.encode()  # ...and the lock lapses by its TTL
        await asyncio.sleep(1.0)
        assert await direct.get(lock.key) is None
    finally:
        await client.aclose()
        await direct.aclose()


async def test_project_events_resync_after_a_redis_outage(redis_url: str, proxy: TcpProxy, tenant_factory: Any,
                                                          user_factory: Any) -> None:
    principal, project = await _principal(tenant_factory, user_factory)
    async with system_tx():
        job = await Job.create(tenant_id=principal.tenant_id, project_id=project.id, state=JobState.RUNNING, seq=3)
    url = _via(redis_url, proxy)
    stream = progress.project_events(principal, project.id, url).__aiter__()
    try:
        first, _ = await asyncio.wait_for(stream.__anext__(), 10)
        assert (first.kind, first.job_id, first.seq) == ("snapshot", str(job.id), 3)
        pending = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.2)
        await proxy.cut()
        marker, _ = await asyncio.wait_for(pending, 10)
        assert (marker.kind, marker.project_id) == ("resync", str(project.id))
        again, stages = await asyncio.wait_for(stream.__anext__(), 10)
        assert (again.kind, again.job_id) == ("snapshot", str(job.id)) and stages is not None
        async with system_tx():
            await Job.filter(id=job.id).update(seq=4)
        publisher = aioredis.Redis.from_url(redis_url)
        live = events.ProgressEvent(str(job.id), str(project.id), 4, "align", "running", 0.5)
        try:
            nxt = asyncio.ensure_future(stream.__anext__())
            while not nxt.done():  # publish until the re-subscribed hub hears it
                await events.publish(publisher, live)
                await asyncio.wait([nxt], timeout=0.2)
        finally:
            await publisher.aclose()
        assert nxt.result()[0].seq == 4
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        hub = events._hubs.pop(url, None)
        if hub is not None:
            await hub.close()
