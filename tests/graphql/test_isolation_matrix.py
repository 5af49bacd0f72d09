"""Tenant isolation, generated from the schema: every root query and mutation that takes an id (directly or
inside an input) is run by tenant B's owner against tenant A's objects. Each must answer NOT_FOUND (typed
``code`` or top-level ``extensions.code``), and A's rows must be byte-for-byte unchanged.

A new id-taking field fails ``test_every_id_taking_field_is_covered`` until CASES says how to call it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from graphql import GraphQLField, GraphQLInputObjectType, GraphQLNamedType, get_named_type

from app.db import system_tx
from app.graphql.schema import schema
from app.models import TENANT_TABLES, Role
from tests.conftest import TEST_PASSWORD
from tests.graphql.conftest import Gql, Org, payload

E = "__typename ... on Error { code field }"

#: field -> (document, variables built from tenant A's org, expected code). B's owner runs it.
Case = tuple[str, Callable[[Org], dict[str, Any]], str]
CASES: dict[str, Case] = {
    "project": (f"query($id: ID!) {{ project(id: $id) {{ {E} }} }}", lambda a: {"id": str(a.project.id)}, "NOT_FOUND"),
    "job": (f"query($id: ID!) {{ job(id: $id) {{ {E} }} }}", lambda a: {"id": str(a.job.id)}, "NOT_FOUND"),
    "jobs": (f"query($p: ID!) {{ jobs(projectId: $p) {{ {E} }} }}", lambda a: {"p": str(a.project.id)}, "NOT_FOUND"),
    "updateProject": (f'mutation($id: ID!) {{ updateProject(input: {{id: $id, name: "pwned"}}) {{ {E} }} }}',
                      lambda a: {"id": str(a.project.id)}, "NOT_FOUND"),
    "deleteProject": (f"mutation($id: ID!) {{ deleteProject(id: $id) {{ {E} }} }}",
                      lambda a: {"id": str(a.project.id)}, "NOT_FOUND"),
    "changeRole": (f"mutation($u: ID!) {{ changeRole(userId: $u, role: VIEWER) {{ {E} }} }}",
                   lambda a: {"u": str(a.users[Role.OWNER].id)}, "NOT_FOUND"),
    "removeMember": (f"mutation($u: ID!) {{ removeMember(userId: $u) {{ {E} }} }}",
                     lambda a: {"u": str(a.users[Role.OWNER].id)}, "NOT_FOUND"),
    "setQuotaPolicy": (f"mutation($t: ID!) {{ setQuotaPolicy(input: {{tenantId: $t, concurrentJobs: 0, "
                       f"processingMinutesPerMonth: 0, storageBytes: 0}}) {{ {E} }} }}",
                       lambda a: {"t": str(a.tenant.id)}, "NOT_FOUND"),
    # budgets: the tenant's own owner or a platform admin; another tenant's id is "not found"
    "setBudget": (f"mutation($t: ID!) {{ setBudget(tenantId: $t, monthlyCost: 1.0) {{ {E} }} }}",
                  lambda a: {"t": str(a.tenant.id)}, "NOT_FOUND"),
    "setTenantPlan": (f'mutation($t: ID!) {{ setTenantPlan(input: {{tenantId: $t, plan: "studio"}}) {{ {E} }} }}',
                      lambda a: {"t": str(a.tenant.id)}, "NOT_FOUND"),
    "revokeInvitation": (f"mutation($i: ID!) {{ revokeInvitation(invitationId: $i) {{ {E} }} }}",
                         lambda a: {"i": str(a.invitation.id)}, "NOT_FOUND"),
    "switchTenant": (f"mutation($t: ID!) {{ switchTenant(tenantId: $t) {{ {E} }} }}",
                     lambda a: {"t": str(a.tenant.id)}, "NOT_FOUND"),
    # login never says which part failed: a foreign tenant looks like a wrong password.
    "login": (f'mutation($t: ID) {{ login(email: "{{email}}", password: "{TEST_PASSWORD}", tenantId: $t) {{ {E} }} }}',
              lambda a: {"t": str(a.tenant.id)}, "UNAUTHENTICATED"),
    # The render domain (runners/lead).
    "startRender": (f"mutation($p: ID!) {{ startRender(projectId: $p) {{ {E} }} }}",
                    lambda a: {"p": str(a.project.id)}, "NOT_FOUND"),
    "cancelJob": (f"mutation($j: ID!) {{ cancelJob(jobId: $j) {{ {E} }} }}", lambda a: {"j": str(a.job.id)},
                  "NOT_FOUND"),
    "retryJob": (f"mutation($j: ID!) {{ retryJob(jobId: $j) {{ {E} }} }}", lambda a: {"j": str(a.job.id)},
                 "NOT_FOUND"),
    "approveAlignment": (f"mutation($j: ID!) {{ approveAlignment(jobId: $j) {{ {E} }} }}",
                         lambda a: {"j": str(a.job.id)}, "NOT_FOUND"),
    "updateAlignment": (f"mutation($j: ID!) {{ updateAlignment(jobId: $j, beats: [{{index: 0, clips: []}}]) "
                        f"{{ {E} }} }}", lambda a: {"j": str(a.job.id)}, "NOT_FOUND"),
    "alignment": (f"query($j: ID!) {{ alignment(jobId: $j) {{ {E} }} }}", lambda a: {"j": str(a.job.id)},
                  "NOT_FOUND"),
    # Storage and governance (a user's export id is only ever the user's: A's job id stands in).
    "deleteJob": (f"mutation($id: ID!) {{ deleteJob(id: $id) {{ {E} }} }}", lambda a: {"id": str(a.job.id)},
                  "NOT_FOUND"),
    "deleteAsset": (f"mutation($id: ID!) {{ deleteAsset(id: $id) {{ {E} }} }}", lambda a: {"id": str(a.asset.id)},
                    "NOT_FOUND"),
    "dataExport": (f"query($id: ID!) {{ dataExport(id: $id) {{ {E} }} }}", lambda a: {"id": str(a.job.id)},
                   "NOT_FOUND"),
    # Audit trail (moderation/compliance): a tenant admin naming another tenant gets "not found".
    "auditEvents": (f"query($t: ID!) {{ auditEvents(filter: {{tenantId: $t}}) {{ {E} }} }}",
                    lambda a: {"t": str(a.tenant.id)}, "NOT_FOUND"),
    # Uploads.
    "prepareUpload": (f'mutation($p: ID!) {{ prepareUpload(input: {{projectId: $p, filename: "x.mp4"}}) {{ {E} }} }}',
                      lambda a: {"p": str(a.project.id)}, "NOT_FOUND"),
}


def _takes_id(named: GraphQLNamedType, seen: set[str]) -> bool:
    if named.name == "ID":
        return True
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        seen.add(named.name)
        return any(_takes_id(get_named_type(f.type), seen) for f in named.fields.values())
    return False


def id_taking_fields() -> list[str]:
    """Root query and mutation fields with an ID argument, or an input object holding an ID (recursively)."""
    found: list[str] = []
    for root in (schema._schema.query_type, schema._schema.mutation_type):
        assert root is not None
        fields: dict[str, GraphQLField] = root.fields
        found += [name for name, f in fields.items()
                  if any(_takes_id(get_named_type(arg.type), set()) for arg in f.args.values())]
    return sorted(found)


def test_every_id_taking_field_is_covered() -> None:
    missing = [name for name in id_taking_fields() if name not in CASES]
    assert not missing, (f"add these id-taking fields to CASES in {__file__} (document, variables from tenant A, "
                         f"expected code): {missing}")
    assert {"project", "job", "jobs", "updateProject", "deleteProject", "setQuotaPolicy"} <= set(id_taking_fields())


async def snapshot(org: Org) -> dict[str, list[dict[str, Any]]]:
    """Every row tenant A owns (tenant tables, the tenant, its users and their refresh tokens)."""
    tid = str(org.tenant.id)
    rows: dict[str, list[dict[str, Any]]] = {}
    async with system_tx() as conn:
        for table in (*TENANT_TABLES, "tenants"):
            column = "id" if table == "tenants" else "tenant_id"
            rows[table] = await conn.execute_query_dict(
                f"SELECT * FROM {table} WHERE {column} = $1 ORDER BY 1", [tid])
        for table, sql in (("users", "SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id "
                                     "WHERE m.tenant_id = $1 ORDER BY u.id"),
                           ("refresh_tokens", "SELECT r.* FROM refresh_tokens r JOIN memberships m "
                                              "ON m.user_id = r.user_id WHERE m.tenant_id = $1 ORDER BY r.id")):
            rows[table] = await conn.execute_query_dict(sql, [tid])
    return rows


def _code(body: dict[str, Any], field: str) -> str | None:
    if body.get("errors"):
        return str(body["errors"][0].get("extensions", {}).get("code"))
    result = body["data"][field]
    return result.get("code") if isinstance(result, dict) else None


@pytest.mark.parametrize("field", id_taking_fields())
async def test_foreign_ids_are_not_found_and_change_nothing(gql: Gql, make_org: Any, redis_client: Any,
                                                            field: str) -> None:
    if field not in CASES:
        pytest.fail(f"{field} takes an id but has no isolation case")
    tenant_a, tenant_b = await make_org(), await make_org()
    document, variables, expected = CASES[field]
    document = document.replace("{email}", tenant_b.users[Role.OWNER].email)
    before = await snapshot(tenant_a)
    body = await gql(document, variables(tenant_a), token=tenant_b.tokens[Role.OWNER])
    assert _code(body, field) == expected, body
    assert await snapshot(tenant_a) == before


async def test_lists_never_show_another_tenants_objects(gql: Gql, make_org: Any) -> None:
    tenant_a, tenant_b = await make_org(), await make_org()
    assert tenant_a.project is not None and tenant_b.project is not None
    body = await gql("query($s: String) { projects(first: 100, search: $s) { edges { node { id assets { id } "
                     "jobs { edges { node { id stages { stage } } } } } } } }",
                     {"s": None}, token=tenant_b.tokens[Role.OWNER])
    nodes = [edge["node"] for edge in payload(body, "projects")["edges"]]
    assert [n["id"] for n in nodes] == [str(tenant_b.project.id)]
    assert [a["id"] for a in nodes[0]["assets"]] == [str(tenant_b.asset.id)]  # type: ignore[union-attr]
    assert [j["node"]["id"] for j in nodes[0]["jobs"]["edges"]] == [str(tenant_b.job.id)]  # type: ignore[union-attr]
    searched = await gql('{ projects(search: "Seeded") { edges { node { id } } } }', token=tenant_b.tokens[Role.VIEWER])
    assert str(tenant_a.project.id) not in str(searched)
    me = payload(await gql("{ me { memberships { tenantId } } }", token=tenant_b.tokens[Role.OWNER]), "me")
    assert me["memberships"] == [{"tenantId": str(tenant_b.tenant.id)}]
    members = payload(await gql("{ tenant { ... on Tenant { members { userId } } } }",
                                token=tenant_b.tokens[Role.OWNER]), "tenant")
    assert {m["userId"] for m in members["members"]} == {str(u.id) for u in tenant_b.users.values()}
    quota = payload(await gql("{ quota { tenantId usage { storageBytes } } }", token=tenant_b.tokens[Role.OWNER]),
                    "quota")
    assert quota["tenantId"] == str(tenant_b.tenant.id)


async def test_row_level_security_hides_rows_even_without_the_service_filter(make_org: Any) -> None:
    """The second wall: a tenant_tx of B sees none of A's rows even when the query forgets to filter."""
    from app.db import tenant_tx
    from app.models import Asset, Job, Project

    tenant_a, tenant_b = await make_org(), await make_org()
    async with tenant_tx(tenant_b.tenant.id):
        assert not await Project.filter(id=tenant_a.project.id).exists()  # type: ignore[union-attr]
        assert not await Asset.filter(id=tenant_a.asset.id).exists()  # type: ignore[union-attr]
        assert not await Job.filter(id=tenant_a.job.id).exists()  # type: ignore[union-attr]
        assert await Project.filter(id=tenant_b.project.id).exists()  # type: ignore[union-attr]


#: Subscription fields taking an id -> (document, variables from tenant A). B's owner subscribes: NOT_FOUND.
SUB_CASES: dict[str, tuple[str, Callable[[Org], dict[str, Any]]]] = {
    "jobProgress": ("subscription($j: ID!) { jobProgress(jobId: $j) { __typename } }",
                    lambda a: {"j": str(a.job.id)}),
    "projectEvents": ("subscription($p: ID!) { projectEvents(projectId: $p) { __typename } }",
                      lambda a: {"p": str(a.project.id)}),
}


def id_taking_subscriptions() -> list[str]:
    root = schema._schema.subscription_type
    if root is None:
        return []
    return sorted(name for name, f in root.fields.items()
                  if any(_takes_id(get_named_type(arg.type), set()) for arg in f.args.values()))


def test_every_id_taking_subscription_is_covered() -> None:
    missing = [name for name in id_taking_subscriptions() if name not in SUB_CASES]
    assert not missing, f"add these id-taking subscriptions to SUB_CASES in {__file__}: {missing}"


@pytest.mark.parametrize("field", id_taking_subscriptions())
async def test_foreign_ids_cannot_be_subscribed(make_org: Any, settings: Any, field: str) -> None:
    """Subscribed in-process, as the websocket transport does (token from connection_init)."""
    import asyncio

    from starlette.requests import HTTPConnection

    from app.graphql.context import RecapContext

    tenant_a, tenant_b = await make_org(), await make_org()
    document, variables = SUB_CASES[field]
    scope = {"type": "websocket", "path": "/graphql", "headers": [], "client": ("10.1.2.3", 1), "query_string": b""}
    context = RecapContext(settings=settings, request=HTTPConnection(scope), is_websocket=True,
                           connection_params={"authorization": f"Bearer {tenant_b.tokens[Role.OWNER]}"})
    stream = await schema.subscribe(document, variable_values=variables(tenant_a), context_value=context)
    assert hasattr(stream, "__anext__"), stream
    try:
        first = await asyncio.wait_for(stream.__anext__(), timeout=10)
    finally:
        await stream.aclose()
    assert first.errors, first
    assert first.errors[0].extensions.get("code") == "NOT_FOUND", first.errors
