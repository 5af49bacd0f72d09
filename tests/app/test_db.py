"""app.db: URL parsing, tenant_tx / system_tx semantics, pooling, nested init."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from app.config import Settings
from app.db import close_db, init_db, parse_database_url, system_tx, tenant_tx
from app.models import Project, Tenant


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://postgres@127.0.0.1:5432/test",
     {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": None, "database": "test"}),
    ("postgres://app:p%40ss@db.example.com/recap?sslmode=require",
     {"host": "db.example.com", "port": 5432, "user": "app", "password": "p@ss", "database": "recap",
      "ssl": "require"}),
    ("postgresql://postgres:@/recap?host=/tmp/pg",
     {"host": "/tmp/pg", "port": 5432, "user": "postgres", "password": None, "database": "recap"}),
    ("postgresql://bob@localhost:6543",
     {"host": "localhost", "port": 6543, "user": "bob", "password": None, "database": "bob"}),
])
def test_parse_database_url(url: str, expected: dict[str, Any]) -> None:
    assert parse_database_url(url) == expected


@pytest.fixture(scope="module")
async def tenants(orm: None) -> tuple[uuid.UUID, uuid.UUID]:
    async with system_tx():
        a = await Tenant.create(name="A", slug=f"db-a-{uuid.uuid4().hex[:8]}")
        b = await Tenant.create(name="B", slug=f"db-b-{uuid.uuid4().hex[:8]}")
        for tenant in (a, b):
            await Project.bulk_create([Project(tenant=tenant, name=f"p{i}") for i in range(3)])
    return a.id, b.id


async def test_system_tx_runs_models_as_the_owner_across_tenants(tenants: tuple[uuid.UUID, uuid.UUID],
                                                                  settings: Settings) -> None:
    async with system_tx() as conn:
        who = await conn.execute_query_dict("SELECT current_user AS role")
        count = await Project.filter(tenant_id__in=tenants).count()
    assert who[0]["role"] != settings.db_app_role
    assert count == 6


async def test_tenant_tx_rolls_back_on_error(tenants: tuple[uuid.UUID, uuid.UUID]) -> None:
    a, _ = tenants
    with pytest.raises(RuntimeError, match="boom"):
        async with tenant_tx(a):
            await Project.create(tenant_id=a, name="rolled-back")
            raise RuntimeError("boom")
    async with system_tx():
        assert await Project.filter(name="rolled-back").count() == 0


async def test_tenant_setting_is_transaction_local(tenants: tuple[uuid.UUID, uuid.UUID]) -> None:
    a, _ = tenants
    async with tenant_tx(a) as conn:
        inside = await conn.execute_query_dict("SELECT current_setting('app.tenant_id', true) AS t")
    async with in_transaction("default") as conn:
        after = await conn.execute_query_dict("SELECT current_setting('app.tenant_id', true) AS t")
    assert inside == [{"t": str(a)}]
    assert after[0]["t"] in (None, "")


async def test_concurrent_tenant_transactions_never_mix(tenants: tuple[uuid.UUID, uuid.UUID]) -> None:
    """Many interleaved transactions over the small pool: each sees exactly its own tenant."""

    async def seen(tenant_id: uuid.UUID) -> set[uuid.UUID]:
        async with tenant_tx(tenant_id):
            await asyncio.sleep(0.001)
            return {p.tenant_id for p in await Project.all()}

    order = [tenants[i % 2] for i in range(24)]
    results = await asyncio.gather(*(seen(t) for t in order))
    assert results == [{t} for t in order]


async def test_nested_init_db_keeps_the_connections_open(settings: Settings, orm: None) -> None:
    await init_db(settings)
    await close_db()
    async with system_tx() as conn:
        assert await conn.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]


async def test_nested_tenant_tx_is_a_savepoint(tenants: tuple[uuid.UUID, uuid.UUID]) -> None:
    a, _ = tenants
    async with tenant_tx(a):
        await Project.create(tenant_id=a, name="outer-kept")
        with pytest.raises(RuntimeError):
            async with tenant_tx(a):
                await Project.create(tenant_id=a, name="inner-undone")
                raise RuntimeError("inner fails")
    async with system_tx():
        assert await Project.filter(name="outer-kept").count() == 1
        assert await Project.filter(name="inner-undone").count() == 0
