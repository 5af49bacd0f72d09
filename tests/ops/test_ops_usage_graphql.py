"""GraphQL ``usage(month, allTenants)``: a tenant sees its month; only platform admins see every tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.db import system_tx
from app.models import Job, Role, Tenant

USAGE = """query($m: String, $all: Boolean! = false) { usage(month: $m, allTenants: $all) {
  __typename ... on UsageList { items { tenantId month jobs sourceMinutes computeCost cost costPerSourceMinute
                                        egressBytes storageBytes budget } }
  ... on PermissionDeniedError { code } ... on ValidationError { code field } } }"""


async def test_usage_of_my_tenant_and_of_all_for_platform_admins(gql: Any, render_job: Any, tenant_factory: Any,
                                                                 user_factory: Any) -> None:
    principal, job = await render_job()
    async with system_tx():
        await Job.filter(id=job.id).update(cost=0.5)
    tenant = await tenant_factory()
    async with system_tx():
        mine = await Tenant.get(id=principal.tenant_id)
    _, token = await user_factory(mine, Role.VIEWER)
    month = datetime.now(UTC).strftime("%Y-%m")
    body = await gql(USAGE, {"m": month}, token=token)
    [row] = body["data"]["usage"]["items"]
    assert row["tenantId"] == str(principal.tenant_id) and row["jobs"] == 1 and row["computeCost"] == 0.5
    assert row["costPerSourceMinute"] > 0 and row["month"] == month

    denied = await gql(USAGE, {"all": True}, token=token)
    assert denied["data"]["usage"] == {"__typename": "PermissionDeniedError", "code": "PERMISSION_DENIED"}
    bad = await gql(USAGE, {"m": "2026-13"}, token=token)
    assert bad["data"]["usage"]["__typename"] == "ValidationError"

    _, admin_token = await user_factory(tenant, Role.VIEWER, is_platform_admin=True)
    every = await gql(USAGE, {"all": True}, token=admin_token)
    tenants = {r["tenantId"] for r in every["data"]["usage"]["items"]}
    assert {str(principal.tenant_id), str(tenant.id)} <= tenants


SET_BUDGET = """mutation($t: ID!, $c: Float) { setBudget(tenantId: $t, monthlyCost: $c) {
  __typename ... on UsageList { items { tenantId budget } } ... on PermissionDeniedError { code }
  ... on ValidationError { code } } }"""


async def test_set_budget_by_owner_only(gql: Any, tenant_factory: Any, user_factory: Any) -> None:
    tenant = await tenant_factory()
    _, owner = await user_factory(tenant, Role.OWNER)
    _, editor = await user_factory(tenant, Role.EDITOR)
    done = await gql(SET_BUDGET, {"t": str(tenant.id), "c": 25.0}, token=owner)
    assert done["data"]["setBudget"]["items"] == [{"tenantId": str(tenant.id), "budget": 25.0}]
    refused = await gql(SET_BUDGET, {"t": str(tenant.id), "c": 99.0}, token=editor)
    assert refused["data"]["setBudget"]["__typename"] == "PermissionDeniedError"
    bad = await gql(SET_BUDGET, {"t": str(tenant.id), "c": -1.0}, token=owner)
    assert bad["data"]["setBudget"]["__typename"] == "ValidationError"
    removed = await gql(SET_BUDGET, {"t": str(tenant.id), "c": None}, token=owner)
    assert removed["data"]["setBudget"]["items"][0]["budget"] is None
