"""Fixtures for the upload tests: the app served by a real uvicorn on 127.0.0.1, a tenant with a
project and an editor's token, small real media files and tus request helpers.

    async def test_x(live: str, owner: Owner) -> None:
        resp = await tus_create(live, owner, length=10)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import uvicorn

from app.db import tenant_tx
from app.models import Project, Role, Tenant, User
from tests.media.gen import make_clip


@dataclass
class Owner:
    tenant: Tenant
    user: User
    token: str
    project_id: UUID

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Tus-Resumable": "1.0.0", **extra}


def encode_metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def tus_create(http: httpx.AsyncClient, owner: Owner, *, length: int | None, filename: str = "movie.mp4",
                     kind: str = "source_video", project_id: UUID | None = None,
                     extra: dict[str, str] | None = None) -> httpx.Response:
    headers = owner.headers(**{"Upload-Metadata": encode_metadata(
        filename=filename, projectId=str(project_id or owner.project_id), kind=kind)}, **(extra or {}))
    if length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(length)
    return await http.post("/uploads/", headers=headers)


async def tus_patch(http: httpx.AsyncClient, owner: Owner, location: str, offset: int, body: bytes,
                    **extra: str) -> httpx.Response:
    headers = owner.headers(**{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
                            **extra)
    return await http.patch(location, headers=headers, content=body)


async def upload_all(http: httpx.AsyncClient, owner: Owner, data: bytes, **create: Any) -> httpx.Response:
    """Create and send ``data`` in one PATCH; returns the PATCH answer."""
    created = await tus_create(http, owner, length=len(data), **create)
    assert created.status_code == 201, created.text
    return await tus_patch(http, owner, created.headers["Location"], 0, data)


@pytest.fixture(scope="session")
async def live(app: Any) -> AsyncIterator[str]:
    """Base URL of the session app served by uvicorn on a random loopback port (lifespan already running).

    It is also the app's ``public_url`` for the session: absolute URLs (tus ``Location``) are built from it.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # uvicorn failed to start: raise its error
            pytest.fail("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    settings, before = app.state.settings, app.state.settings.public_url
    settings.public_url = f"http://127.0.0.1:{port}"
    yield settings.public_url
    settings.public_url = before
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def http(live: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live, timeout=30) as client:
        yield client


@pytest.fixture
def owner_factory(tenant_factory: Callable[..., Awaitable[Tenant]],
                  user_factory: Callable[..., Awaitable[tuple[User, str]]]) -> Callable[..., Awaitable[Owner]]:
    async def make(role: Role = Role.EDITOR) -> Owner:
        tenant = await tenant_factory()
        user, token = await user_factory(tenant, role)
        async with tenant_tx(tenant.id) as conn:
            project = await Project.create(tenant_id=tenant.id, name="Upload tests", using_db=conn)
        return Owner(tenant, user, token, project.id)
    return make


@pytest.fixture
async def owner(owner_factory: Callable[..., Awaitable[Owner]]) -> Owner:
    return await owner_factory()


@pytest.fixture(scope="session")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small real H.264 clip with audio (tens of KB), made from code."""
    path = make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", [("noise", 24), ((200, 30, 30), 24)],
                     audio=True)
    return Path(path).read_bytes()
