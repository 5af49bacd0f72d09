"""Audit events are append-only for the app role: raw UPDATE and DELETE are refused by a trigger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tortoise.exceptions import BaseORMException

from app.db import system_tx, tenant_tx
from app.models import AuditEvent, Tenant, User
from app.services import audit


async def _event(tenant: Tenant, user: User) -> int:
    async with tenant_tx(tenant.id) as conn:
        await audit.record(conn, tenant_id=tenant.id, actor_id=user.id, action="render.started", target_type="job",
                           target_id="j1", ip="203.0.113.9", user_agent="pytest/1 " + "x" * 400)
        rows = await conn.execute_query_dict("SELECT max(id) AS id FROM audit_events")
    return int(rows[0]["id"])


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET action = 'nothing' WHERE id = $1",
                                 "UPDATE audit_events SET data = '{}'::jsonb, ip = NULL WHERE id = $1",
                                 "UPDATE audit_events SET actor_id = NULL WHERE id = $1",
                                 "DELETE FROM audit_events WHERE id = $1"])
async def test_app_role_cannot_change_or_delete_audit_rows(tenant_factory: Callable[..., Awaitable[Tenant]],
                                                         user_factory: Callable[..., Awaitable[Any]],
                                                         sql: str) -> None:
    tenant = await tenant_factory()
    user, _ = await user_factory(tenant)
    event_id = await _event(tenant, user)
    with pytest.raises(BaseORMException, match="append-only"):
        async with tenant_tx(tenant.id) as conn:
            await conn.execute_query(sql, [event_id])
    async with system_tx():
        row = await AuditEvent.get(id=event_id)
    assert row.action == "render.started" and row.actor_id == user.id  # type: ignore[attr-defined]
    assert row.ip == "203.0.113.9" and row.user_agent is not None and len(row.user_agent) == 256


async def test_deleting_the_actor_nulls_the_reference_and_system_role_may_prune(
        tenant_factory: Callable[..., Awaitable[Tenant]], user_factory: Callable[..., Awaitable[Any]]) -> None:
    tenant = await tenant_factory()
    user, _ = await user_factory(tenant)
    event_id = await _event(tenant, user)
    async with system_tx() as conn:
        await conn.execute_query("DELETE FROM memberships WHERE user_id = $1", [user.id])
        await conn.execute_query("DELETE FROM users WHERE id = $1", [user.id])
        row = await AuditEvent.get(id=event_id)
        assert row.actor_id is None and row.action == "render.started"  # type: ignore[attr-defined]
        # retention and erasure run on the system connection
        await conn.execute_query("DELETE FROM audit_events WHERE id = $1", [event_id])
        assert not await AuditEvent.filter(id=event_id).exists()


async def test_app_role_deleting_its_tenant_user_is_not_blocked_by_the_trigger(
        tenant_factory: Callable[..., Awaitable[Tenant]], user_factory: Callable[..., Awaitable[Any]]) -> None:
    tenant = await tenant_factory()
    user, _ = await user_factory(tenant)
    event_id = await _event(tenant, user)
    async with tenant_tx(tenant.id) as conn:  # the cascade (ON DELETE SET NULL) runs as the app role
        await conn.execute_query("DELETE FROM memberships WHERE user_id = $1", [user.id])
        await conn.execute_query("DELETE FROM users WHERE id = $1", [user.id])
    async with system_tx():
        row = await AuditEvent.get(id=event_id)
    assert row.actor_id is None and row.action == "render.started"  # type: ignore[attr-defined]
