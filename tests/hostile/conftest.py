"""The hostile corpus' world: the session app on a real uvicorn (HTTP + websockets), an attacker tenant A
and a victim tenant B (one user per role, a project with a ready asset, a job with stages, an open
upload), and the invariant checks every case ends with.

    async def test_x(hostile: Ctx) -> None:
        code = await hostile.gql("{ me { tenantId } }")
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from app.auth.passwords import hash_password_sync, password_hasher
from app.auth.tokens import issue_access_token
from app.config import Settings
from app.db import system_tx
from app.models import TENANT_TABLES, AssetStatus, Invitation, Membership, Project, Role, Tenant, User
from tests.conftest import TEST_PASSWORD
from tests.graphql.conftest import seed_project
from tests.hostile.corpus import Ctx, Org


async def _org(settings: Settings, label: str) -> Org:
    suffix = uuid.uuid4().hex[:8]
    hashed = hash_password_sync(password_hasher(settings.auth), TEST_PASSWORD)
    async with system_tx():
        tenant = await Tenant.create(name=f"Hostile {label} {suffix}", slug=f"h-{label}-{suffix}")
        users: dict[Role, User] = {}
        for role in Role:
            users[role] = await User.create(email=f"h{label}{role.value}{suffix}@example.com", password_hash=hashed)
            await Membership.create(tenant_id=tenant.id, user_id=users[role].id, role=role)
    tokens = {role: issue_access_token(user.id, tenant.id, role, settings=settings.auth)
              for role, user in users.items()}
    project, asset, job = await seed_project(tenant, users[Role.OWNER], name=f"Hostile {label}")
    async with system_tx():
        asset.status = AssetStatus.READY
        await asset.save(update_fields=["status"])
        invitation = await Invitation.create(  # pending; its token is unknown (only the hash is stored)
            tenant_id=tenant.id, email=f"invitee{suffix}{label}@example.com", role=Role.EDITOR,
            token_hash=uuid.uuid4().hex, expires_at=datetime.now(UTC) + timedelta(days=1))
    return Org(tenant=tenant, users=users, tokens=tokens, project=project, asset=asset, job=job,
               invitation=invitation)


@pytest.fixture(scope="session")
async def hostile_url(app: Any) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="critical",
                            ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            pytest.fail("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture(scope="session")
async def hostile(hostile_url: str, settings: Settings, orm: None) -> AsyncIterator[Ctx]:
    a, b = await _org(settings, "a"), await _org(settings, "b")
    async with httpx.AsyncClient(base_url=hostile_url, timeout=60) as http:
        ctx = Ctx(base=hostile_url, http=http, a=a, b=b, settings=settings)
        b.upload_url = await ctx.open_upload(b, length=100)
        async with system_tx():
            bare = await Project.create(tenant_id=a.tenant.id, name="Hostile bare",
                                        created_by_id=a.users[Role.OWNER].id)
        ctx.scratch["bare_project"] = str(bare.id)
        yield ctx


async def snapshot(tenant_ids: list[uuid.UUID], skip: dict[uuid.UUID, frozenset[str]]) -> dict[str, Any]:
    """A digest of every tenant-owned row of the given tenants (tables in ``skip[tenant]`` left out),
    plus the tenants and users tables' sizes."""
    found: dict[str, Any] = {}
    async with system_tx() as conn:
        for tenant_id in tenant_ids:
            for table in TENANT_TABLES:
                if table in skip.get(tenant_id, frozenset()):
                    continue
                _, rows = await conn.execute_query(
                    f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h "
                    f"FROM {table} t WHERE tenant_id = $1", [tenant_id])
                found[f"{tenant_id}:{table}"] = (rows[0]["n"], rows[0]["h"])
        for table in ("tenants", "users"):
            _, rows = await conn.execute_query(f"SELECT count(*) AS n FROM {table}")
            found[table] = rows[0]["n"]
    return found
