"""Fixtures for the operations tests: a small real clip, a render job ready to run, a worker context."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.models import Asset, AssetKind, AssetStatus, Job, Project, Role, Tenant
from app.storage import get_storage


@pytest.fixture(scope="session")
def ops_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s H.264 clip with a tone (ingest has video and audio to work on)."""
    from tests.media.gen import make_clip

    return make_clip(tmp_path_factory.mktemp("ops") / "clip.mp4", [((200, 30, 30), 24), ("checker", 24)],
                     audio=True)


@pytest.fixture
def project_with_clip(settings: Settings, ops_clip: Path, tenant_factory: Any, user_factory: Any
                      ) -> Callable[..., Awaitable[tuple[Principal, str, Project]]]:
    """``await project_with_clip(plan="free", webhook_url=None)``: (editor principal, its token, a project
    whose source video, the clip, is stored and READY)."""
    from media.probe import probe

    storage = get_storage(settings)

    async def make(plan: str = "free", webhook_url: str | None = None, tenant: Tenant | None = None
                   ) -> tuple[Principal, str, Project]:
        tenant = tenant or await tenant_factory()
        async with system_tx():
            await Tenant.filter(id=tenant.id).update(plan=plan, webhook_url=webhook_url, webhook_secret="s3cret")
        user, token = await user_factory(tenant, Role.EDITOR)
        principal = Principal(user.id, tenant.id, Role.EDITOR)
        async with system_tx():
            project = await Project.create(tenant_id=tenant.id, name=f"p-{uuid.uuid4().hex[:6]}")
        key = f"inputs/{tenant.id}/{project.id}/{uuid.uuid4().hex}.mp4"
        await storage.put_file(key, ops_clip)
        async with system_tx():
            await Asset.create(tenant_id=tenant.id, project_id=project.id, kind=AssetKind.SOURCE_VIDEO,
                               status=AssetStatus.READY, filename="clip.mp4", storage_key=key,
                               size_bytes=ops_clip.stat().st_size, probe=probe(ops_clip).to_json(),
                               sha256=hashlib.sha256(ops_clip.read_bytes()).hexdigest())
        return principal, token, project

    return make


SCRIPT_TEXT = "# One\n\nA beat."


@pytest.fixture
def render_job(settings: Settings, project_with_clip: Any) -> Callable[..., Awaitable[tuple[Principal, Job]]]:
    """``await render_job(plan="free", webhook_url=None)``: a tenant, a project with the clip, a started job."""
    from app.services import render

    async def make(**kwargs: Any) -> tuple[Principal, Job]:
        principal, _, project = await project_with_clip(**kwargs)
        job = await render.start_render(principal, project.id,
                                        render.RenderOptions(script_text=SCRIPT_TEXT, narration="none"), settings)
        return principal, job

    return make


@pytest.fixture
async def worker_ctx(settings: Settings, orm: None) -> AsyncIterator[dict[str, Any]]:
    """The context an ARQ worker hands its functions (``on_startup`` ran; database already set up)."""
    from app.queue import CPU_QUEUE
    from runners.worker import on_shutdown, on_startup

    ctx: dict[str, Any] = {"settings": settings, "db_ready": True, "queue_name": CPU_QUEUE}
    await on_startup(ctx)
    yield ctx
    await on_shutdown(ctx)


async def message_of(redis: Any, job_id: Any, stage: str, attempt: int = 1) -> dict[str, Any]:
    """The queued ARQ message of one stage attempt (decoded)."""
    from app.queue import deserialize

    raw = await redis.get(f"arq:job:{job_id}:{stage}:{attempt}")
    assert raw is not None, "the stage message is not in the queue"
    return deserialize(raw)


async def clear_queues(redis: Any) -> None:
    from app.queue import QUEUES

    for queue in QUEUES:
        for job_id in await redis.zrange(queue, 0, -1):
            await redis.delete(f"arq:job:{job_id.decode()}", f"arq:in-progress:{job_id.decode()}")
        await redis.delete(queue)


@pytest.fixture
def run_worker_burst(settings: Settings) -> Callable[..., Awaitable[None]]:
    """``await run_worker_burst()``: an in-process ARQ worker in burst mode until the queue is empty."""
    import asyncio

    from runners.worker import build_worker

    async def run(limit_s: float = 120.0, max_jobs: int = -1) -> None:
        worker = build_worker(settings, burst=True, handle_signals=False, max_burst_jobs=max_jobs)
        try:
            await asyncio.wait_for(worker.async_run(), limit_s)
        finally:
            await worker.close()

    return run
