"""``auditEvents``: tenant admins page through their tenant's trail, platform admins through all, others are refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.db import tenant_tx
from app.models import Role, Tenant
from app.services import audit
from tests.graphql.conftest import Gql

QUERY = """query($first: Int!, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    __typename
    ... on AuditEventConnection { edges { cursor node { action tenantId actorId targetId ip userAgent data } }
                                  pageInfo { hasNextPage endCursor } }
    ... on Error { code message field } } }"""


async def _seed(tenant: Tenant, actor: Any, actions: list[str]) -> None:
    async with tenant_tx(tenant.id) as conn:
        for i, action in enumerate(actions):
            await audit.record(conn, tenant_id=tenant.id, actor_id=actor.id, action=action, target_type="job",
                               target_id=f"j{i}", ip="198.51.100.1", user_agent="ua/1", data={"n": i})


async def test_tenant_admin_pages_own_tenant_platform_admin_sees_all(
        gql: Gql, tenant_factory: Callable[..., Awaitable[Tenant]],
        user_factory: Callable[..., Awaitable[Any]]) -> None:
    a, b = await tenant_factory(), await tenant_factory()
    admin, admin_token = await user_factory(a, Role.ADMIN)
    other, _ = await user_factory(b, Role.ADMIN)
    await _seed(a, admin, ["render.started", "render.cancelled", "download.output"])
    await _seed(b, other, ["render.started"])

    first = (await gql(QUERY, {"first": 2}, token=admin_token))["data"]["auditEvents"]
    assert first["__typename"] == "AuditEventConnection" and first["pageInfo"]["hasNextPage"]
    assert [e["node"]["action"] for e in first["edges"]] == ["download.output", "render.cancelled"]
    rest = (await gql(QUERY, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=admin_token))
    nodes = [e["node"] for e in rest["data"]["auditEvents"]["edges"]]
    assert [n["action"] for n in nodes if n["tenantId"] == str(a.id)] == ["render.started"]
    assert all(n["tenantId"] == str(a.id) for n in nodes)  # never tenant b's rows
    assert nodes[-1]["userAgent"] == "ua/1" and nodes[-1]["data"] == {"n": 0}

    only = await gql(QUERY, {"first": 10, "filter": {"action": "render."}}, token=admin_token)
    assert {e["node"]["action"] for e in only["data"]["auditEvents"]["edges"]} == {"render.started",
                                                                                  "render.cancelled"}
    refused = await gql(QUERY, {"first": 5, "filter": {"tenantId": str(b.id)}}, token=admin_token)
    assert refused["data"]["auditEvents"]["__typename"] == "NotFoundError"

    _, platform_token = await user_factory(a, Role.VIEWER, is_platform_admin=True)
    seen = await gql(QUERY, {"first": 5, "filter": {"tenantId": str(b.id)}}, token=platform_token)
    assert [e["node"]["targetId"] for e in seen["data"]["auditEvents"]["edges"]] == ["j0"]


async def test_editor_is_refused_and_bad_cursor_is_a_validation_error(
        gql: Gql, tenant_factory: Callable[..., Awaitable[Tenant]],
        user_factory: Callable[..., Awaitable[Any]]) -> None:
    tenant = await tenant_factory()
    _, editor = await user_factory(tenant, Role.EDITOR)
    _, admin = await user_factory(tenant, Role.ADMIN)
    denied = (await gql(QUERY, {"first": 5}, token=editor))["data"]["auditEvents"]
    assert denied["__typename"] == "PermissionDeniedError"
    bad = (await gql(QUERY, {"first": 5, "after": "nonsense"}, token=admin))["data"]["auditEvents"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "after"
