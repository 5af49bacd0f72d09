"""Fixtures for the job pipeline: real PostgreSQL, Redis, storage, ARQ workers and media."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.models import Asset, AssetKind, AssetStatus, Project, Role, Tenant
from app.storage import get_storage

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(scope="session")
def sample_film(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo's generated film (5 scenes of Piper dialogue, ~50 s) and its recap script, built once."""
    from media.samplefilm import build_sample_film
    from media.tts import PiperNarrator

    return build_sample_film(tmp_path_factory.mktemp("film"), PiperNarrator())


@pytest.fixture(autouse=True)
async def no_leftover_work(orm: None, settings: Settings) -> None:
    """Work an earlier test left queued (its files maybe gone) would run in this test's burst worker and
    fail there: cancel such jobs and drop their messages before each pipeline test."""
    import redis.asyncio as aioredis

    from app.queue import CPU_QUEUE, GPU_QUEUE

    async with system_tx() as conn:
        await conn.execute_query(
            "UPDATE stage_runs SET state = 'cancelled' WHERE state IN ('pending', 'queued', 'running') AND job_id IN "
            "(SELECT id FROM jobs WHERE state IN ('queued', 'running'))")
        await conn.execute_query("UPDATE jobs SET state = 'cancelled', finished_at = now() "
                                 "WHERE state IN ('queued', 'running')")
    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        for queue in (CPU_QUEUE, GPU_QUEUE):
            ids = [raw.decode() for raw in await client.zrange(queue, 0, -1)]
            if ids:
                await client.delete(queue, *(f"arq:job:{i}" for i in ids), *(f"arq:in-progress:{i}" for i in ids))
    finally:
        await client.aclose()


@pytest.fixture
def principal_factory(tenant_factory: Callable[..., Awaitable[Tenant]], user_factory: Any
                      ) -> Callable[..., Awaitable[tuple[Principal, str]]]:
    """``await principal_factory(role=Role.EDITOR, tenant=None) -> (Principal, access token)``."""

    async def make(role: Role = Role.EDITOR, tenant: Tenant | None = None) -> tuple[Principal, str]:
        tenant = tenant or await tenant_factory()
        user, token = await user_factory(tenant, role)
        return Principal(user.id, tenant.id, role), token

    return make


@pytest.fixture
def project_with_assets(settings: Settings) -> Callable[..., Awaitable[Project]]:
    """``await project_with_assets(principal, sources=[paths], script=path)``: assets stored and READY."""
    from media.probe import probe

    storage = get_storage(settings)

    async def make(principal: Principal, sources: list[Path], script: Path | None = None) -> Project:
        async with system_tx():
            project = await Project.create(tenant_id=principal.tenant_id, name=f"p-{uuid.uuid4().hex[:6]}")
        items = [(p, AssetKind.SOURCE_VIDEO) for p in sources] + ([(script, AssetKind.SCRIPT)] if script else [])
        for path, kind in items:
            key = f"inputs/{principal.tenant_id}/{project.id}/{uuid.uuid4().hex}{path.suffix}"
            await storage.put_file(key, path)
            info = probe(path).to_json() if kind is AssetKind.SOURCE_VIDEO else None
            async with system_tx():
                await Asset.create(tenant_id=principal.tenant_id, project_id=project.id, kind=kind,
                                   status=AssetStatus.READY, filename=path.name, storage_key=key,
                                   size_bytes=path.stat().st_size, probe=info,
                                   sha256=hashlib.sha256(path.read_bytes()).hexdigest())
        return project

    return make


@pytest.fixture
def run_worker(settings: Settings) -> Callable[..., Awaitable[None]]:
    """``await run_worker(limit_s=...)``: an ARQ worker in burst mode until the queue is empty."""
    from runners.worker import build_worker

    async def run(limit_s: float = 240.0, **overrides: Any) -> None:
        s = settings.model_copy(update=overrides) if overrides else settings
        worker = build_worker(s, burst=True, handle_signals=False)
        try:
            await asyncio.wait_for(worker.async_run(), limit_s)
        finally:
            await worker.close()

    return run


@contextlib.asynccontextmanager
async def serve_on_loopback(make_app: Callable[[str], Any], **config: Any) -> AsyncIterator[str]:
    """``async with serve_on_loopback(lambda url: app) as url``: an ASGI app on uvicorn, free loopback port."""
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(make_app(url), host="127.0.0.1", port=port, log_level="warning",
                                           **config))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def api_server() -> Callable[[Settings], Any]:
    """``async with api_server(settings) as url``: the real app on uvicorn, on a free loopback port."""
    from app.main import create_app

    def serve(settings: Settings) -> Any:
        return serve_on_loopback(lambda url: create_app(settings.model_copy(update={"public_url": url})),
                                 ws="websockets-sansio")

    return serve


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a ``recap worker`` subprocess on the test's database, Redis and storage."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECAP_")}
    env.update({"DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
                "RECAP_ENV": "test", "RECAP_DATA_DIR": str(settings.data_dir),
                "RECAP_STORAGE__ROOT": str(settings.storage_root), **extra})
    return env


@pytest.fixture
def spawn_worker(settings: Settings) -> Any:
    """``spawn_worker(**env) -> Popen`` of ``recap worker``; every process is killed at teardown."""
    import subprocess
    import sys

    procs: list[subprocess.Popen[bytes]] = []

    def spawn(redis_url: str | None = None, **extra: str) -> subprocess.Popen[bytes]:
        env = worker_env(settings, **extra)
        if redis_url:
            env["REDIS_URL"] = redis_url
        proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "worker"], env=env)
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # A SIGKILLed arq worker leaves its messages in the queue "in progress" for hours: a later burst
    # worker would wait for them.
    from app.queue import drop_orphaned_messages

    drop_orphaned_messages(settings.redis_url or "")
