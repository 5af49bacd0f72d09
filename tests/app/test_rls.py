"""Row-level security: every tenant table is isolated by PostgreSQL itself, even for raw SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.exceptions import BaseORMException
from tortoise.transactions import in_transaction

from app.config import Settings
from app.db import system_tx, tenant_tx
from app.models import (
    TENANT_TABLES,
    Artifact,
    Asset,
    AssetKind,
    AuditEvent,
    Invitation,
    Job,
    Membership,
    Project,
    QuotaPolicy,
    RetentionPolicy,
    Role,
    Stage,
    StageRun,
    Tenant,
    TenantBudget,
    Upload,
    UsageCounter,
    User,
)


@dataclass(frozen=True)
class World:
    a: uuid.UUID
    b: uuid.UUID


async def _rows_for(tenant: Tenant) -> None:
    """One row in every tenant table for ``tenant``."""
    user = await User.create(email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="x")
    await Membership.create(tenant=tenant, user=user, role=Role.OWNER)
    await QuotaPolicy.create(tenant=tenant, concurrent_jobs=1, processing_minutes_per_month=1, storage_bytes=1)
    await UsageCounter.create(tenant=tenant, period="2026-11")
    project = await Project.create(tenant=tenant, name="p")
    asset = await Asset.create(tenant=tenant, project=project, kind=AssetKind.SCRIPT, filename="s.txt",
                               storage_key="k")
    job = await Job.create(tenant=tenant, project=project)
    artifact = await Artifact.create(tenant=tenant, stage=Stage.INGEST, content_hash="h", storage_key="k")
    await StageRun.create(tenant=tenant, job=job, stage=Stage.INGEST, artifact=artifact)
    await Upload.create(tenant=tenant, project=project, kind=AssetKind.SCRIPT, filename="s.txt", storage_key="k",
                        asset=asset, expires_at=datetime.now(UTC) + timedelta(hours=1))
    await AuditEvent.create(tenant=tenant, actor=user, action="test")
    await Invitation.create(tenant=tenant, email="x@example.com", role=Role.EDITOR, token_hash=uuid.uuid4().hex,
                            expires_at=datetime.now(UTC) + timedelta(days=1))
    await RetentionPolicy.create(tenant=tenant, outputs_days=30)
    await TenantBudget.create(tenant=tenant, monthly_cost=10.0)


@pytest.fixture(scope="module")
async def world(orm: None) -> World:
    async with system_tx():
        a = await Tenant.create(name="A", slug=f"a-{uuid.uuid4().hex[:8]}")
        b = await Tenant.create(name="B", slug=f"b-{uuid.uuid4().hex[:8]}")
        await _rows_for(a)
        await _rows_for(b)
        await AuditEvent.create(action="system.note")  # tenant_id NULL: system only
    return World(a.id, b.id)


async def test_every_table_with_tenant_id_has_forced_rls(orm: None) -> None:
    async with system_tx() as conn:
        rows = await conn.execute_query_dict(
            "SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,"
            " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid"
            "   AND pg_get_expr(p.polqual, p.polrelid) LIKE '%app.tenant_id%'"
            "   AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%app.tenant_id%') AS policies"
            " FROM information_schema.columns col JOIN pg_class c ON c.relname = col.table_name"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = col.table_schema"
            " WHERE col.table_schema = 'public' AND col.column_name = 'tenant_id' AND c.relkind = 'r'")
    assert {r["name"] for r in rows} == set(TENANT_TABLES)
    missing = [r["name"] for r in rows if not (r["rls"] and r["force"] and r["policies"] == 1)]
    assert missing == [], f"tables without RLS + FORCE + tenant policy: {missing}"


async def test_app_role_is_not_owner_and_cannot_bypass_rls(orm: None, settings: Settings) -> None:
    async with tenant_tx(uuid.uuid4()) as conn:
        who = await conn.execute_query_dict(
            "SELECT current_user AS role, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user")
    assert who == [{"role": settings.db_app_role, "rolsuper": False, "rolbypassrls": False}]
    async with system_tx() as conn:
        owned = await conn.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1", [settings.db_app_role])
    assert owned == []


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_tenant_sees_only_its_rows(world: World, table: str) -> None:
    async with tenant_tx(world.a) as conn:
        rows = await conn.execute_query_dict(f"SELECT tenant_id FROM {table}")
        hidden = await conn.execute_query_dict(f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1", [world.b])
    assert rows and {r["tenant_id"] for r in rows} == {world.a}
    assert hidden == [{"n": 0}]


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_tenant_cannot_change_other_tenants_rows(world: World, table: str) -> None:
    async with system_tx() as conn:
        before = await conn.execute_query_dict(f"SELECT * FROM {table} WHERE tenant_id = $1 ORDER BY 1", [world.b])
    async with tenant_tx(world.a) as conn:
        updated, _ = await conn.execute_query(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1",
                                              [world.b])
        deleted, _ = await conn.execute_query(f"DELETE FROM {table} WHERE tenant_id = $1", [world.b])
    assert (updated, deleted) == (0, 0)
    async with system_tx() as conn:
        after = await conn.execute_query_dict(f"SELECT * FROM {table} WHERE tenant_id = $1 ORDER BY 1", [world.b])
    assert after == before and before


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_tenant_cannot_move_rows_to_another_tenant(world: World, table: str) -> None:
    with pytest.raises(BaseORMException, match="row-level security"):
        async with tenant_tx(world.a) as conn:
            await conn.execute_query(f"UPDATE {table} SET tenant_id = $1", [world.b])


async def test_tenant_cannot_insert_for_another_tenant(world: World) -> None:
    with pytest.raises(BaseORMException, match="row-level security"):
        async with tenant_tx(world.a):
            await Project.create(tenant_id=world.b, name="intruder")
    async with tenant_tx(world.a):
        created = await Project.create(tenant_id=world.a, name="mine")
    async with system_tx():
        assert await Project.filter(name="intruder").count() == 0
        assert (await Project.get(id=created.id)).tenant_id == world.a


async def test_audit_rows_without_tenant_are_system_only(world: World) -> None:
    async with tenant_tx(world.a) as conn:
        visible = await conn.execute_query_dict("SELECT count(*) AS n FROM audit_events WHERE tenant_id IS NULL")
    assert visible == [{"n": 0}]
    with pytest.raises(BaseORMException, match="row-level security"):
        async with tenant_tx(world.a):
            await AuditEvent.create(action="app.note")
    async with system_tx():
        assert await AuditEvent.filter(tenant_id=None, action="system.note").count() == 1


async def test_without_tenant_the_app_role_sees_nothing(world: World) -> None:
    async with tenant_tx(world.a):
        assert await Project.all().count() >= 1
    # The same pooled connections now carry app.tenant_id = '' (reset at commit): still no rows, no error.
    for _ in range(3):
        async with in_transaction("default"):
            assert await Project.all().count() == 0
    assert await Project.all().count() == 0
