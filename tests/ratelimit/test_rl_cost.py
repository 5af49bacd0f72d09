"""GraphQL cost: the static cost of an operation is computed before execution; too expensive ->
COST_LIMIT_EXCEEDED with nothing run; the tenant's per-minute cost budget -> 429 RATE_LIMITED."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from graphql import parse

from app.config import RateTier
from app.db import system_tx
from app.graphql.schema import schema
from app.models import Project, Role
from app.ratelimit.cost import operation_cost
from tests.graphql.conftest import Gql
from tests.ratelimit.conftest import asgi_client

NESTED = "projects(first:100){nodes{jobs(first:100){nodes{stages{stage}}}}}"
ATTACK = "{" + " ".join(f"a{i}: {NESTED}" for i in range(29)) + "}"
CONSOLE = "{ projects { nodes { id name jobs(first: 5) { nodes { id state stages { stage state } } } } } }"


@pytest.mark.parametrize(("document", "variables", "cost"), [
    ("{ me { tenantId } }", {}, 1),
    ("{ me { user { id } memberships { tenantId } } }", {}, 13),  # a list without first: 10 items
    ("{ projects(first: 3) { nodes { id } } }", {}, 4),
    ("query($n: Int) { projects(first: $n) { nodes { id } } }", {"n": 7}, 8),
    ("query($n: Int) { projects(first: $n) { nodes { id } } }", {"n": "7"}, 11),  # not an int: list size
    ("{ projects(first: 100000) { edges { node { id } } } }", {}, 101),  # capped at the page maximum
    ("{ projects { nodes { id } } }", {}, 21),  # the argument's default (20)
    (CONSOLE, {}, 1241),
    ("{" + NESTED + "}", {}, 120_201),
    (ATTACK, {}, 29 * 120_201),
    ("fragment F on Project { jobs(first: 2) { nodes { id } } } { projects(first: 4) { nodes { ...F } } }", {},
     1 + 4 * (1 + 1 + 2)),
    ('mutation { a: createProject(input: {name: "a"}) { __typename } b: login(email: "x", password: "y") '
     "{ __typename } }", {}, 30),
    ("{ __schema { types { name } } }", {}, 50),
])
def test_static_cost(document: str, variables: dict[str, Any], cost: int) -> None:
    assert operation_cost(schema._schema, parse(document), None, variables, list_size=10) == cost


async def test_29_aliased_nested_lists_are_refused_before_execution(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    body = await gql(ATTACK, token=org.tokens[Role.VIEWER])
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 3_485_829, "maxCost": 50_000}
    # The console's everyday query is well within the limit.
    assert not (await gql(CONSOLE, token=org.tokens[Role.VIEWER])).get("errors")


async def test_refused_mutations_never_run(limited_app: Callable[..., Any], make_org: Any) -> None:
    org = await make_org()
    app = limited_app(max_cost=50)
    many = "mutation { " + " ".join(f'p{i}: createProject(input: {{name: "n{i}"}}) {{ __typename }}'
                                    for i in range(6)) + " }"
    async with system_tx():
        before = await Project.filter(tenant_id=org.tenant.id).count()
    async with asgi_client(app) as http:
        response = await http.post("/graphql", json={"query": many},
                                   headers={"Authorization": f"Bearer {org.tokens[Role.EDITOR]}"})
    assert response.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    async with system_tx():
        assert await Project.filter(tenant_id=org.tenant.id).count() == before


async def test_tenant_cost_budget_per_minute(limited_app: Callable[..., Any], make_org: Any) -> None:
    org, other = await make_org(), await make_org()
    app = limited_app(tier=RateTier(api_per_minute=0, uploads_per_minute=0, cost_per_minute=2000))
    async with asgi_client(app) as http:
        def post(token: str) -> Any:
            return http.post("/graphql", json={"query": CONSOLE}, headers={"Authorization": f"Bearer {token}"})
        first = await post(org.tokens[Role.VIEWER])
        assert first.status_code == 200 and not first.json().get("errors"), first.text
        refused = await post(org.tokens[Role.OWNER])  # same tenant, another user: one budget
        assert refused.status_code == 429, refused.text
        retry = int(refused.headers["Retry-After"])
        assert refused.json()["data"] is None
        assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "field": None,
                                                             "retryAfter": retry, "cost": 1241}
        assert (await post(other.tokens[Role.VIEWER])).status_code == 200  # another tenant's budget
