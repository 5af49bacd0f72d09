"""Request rates: per IP and per tenant on /graphql and /uploads; a refusal is 429 + Retry-After and a
RATE_LIMITED error carrying the same retryAfter. Each test sets its own limits (the suite's are off)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.config import RateTier
from app.models import Role, Tenant, User
from tests.ratelimit.conftest import asgi_client

ME = {"query": "{ me { tenantId } }"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_graphql_429(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry}
    assert response.json()["data"] is None
    return retry


async def test_tenant_api_limit_refuses_with_429_and_spares_other_tenants(
        limited_app: Callable[..., Any], tenant_factory: Callable[..., Awaitable[Tenant]],
        user_factory: Callable[..., Awaitable[tuple[User, str]]]) -> None:
    app = limited_app(tier=RateTier(api_per_minute=3, uploads_per_minute=0, cost_per_minute=0))
    _, token_a = await user_factory(await tenant_factory(), Role.EDITOR)
    _, token_a2 = await user_factory(await tenant_factory(), Role.EDITOR)
    async with asgi_client(app) as http:
        for _ in range(3):
            ok = await http.post("/graphql", json=ME, headers=auth(token_a))
            assert ok.status_code == 200 and not ok.json().get("errors"), ok.text
        assert_graphql_429(await http.post("/graphql", json=ME, headers=auth(token_a)))
        other = await http.post("/graphql", json=ME, headers=auth(token_a2))  # same IP, another tenant
        assert other.status_code == 200, other.text


async def test_ip_limit_counts_anonymous_and_bad_tokens_and_spares_other_addresses(
        limited_app: Callable[..., Any]) -> None:
    app = limited_app(ip_api_per_minute=2)
    async with asgi_client(app, ip="10.9.0.1") as http:
        assert (await http.post("/graphql", json=ME)).status_code == 200
        assert (await http.post("/graphql", json=ME, headers=auth("not-a-jwt"))).status_code == 200
        assert_graphql_429(await http.post("/graphql", json=ME))
    async with asgi_client(app, ip="10.9.0.2") as http:
        assert (await http.post("/graphql", json=ME)).status_code == 200


async def test_health_and_preflight_are_never_limited(limited_app: Callable[..., Any]) -> None:
    app = limited_app(ip_api_per_minute=1)
    async with asgi_client(app, ip="10.9.0.3") as http:
        assert (await http.post("/graphql", json=ME)).status_code == 200
        assert (await http.post("/graphql", json=ME)).status_code == 429
        for _ in range(3):
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.options("/graphql")).status_code != 429


async def test_upload_limit_answers_tus_429(limited_app: Callable[..., Any], tenant_factory: Any,
                                            user_factory: Any) -> None:
    app = limited_app(tier=RateTier(api_per_minute=0, uploads_per_minute=2, cost_per_minute=0))
    _, token = await user_factory(await tenant_factory(), Role.EDITOR)
    headers = {**auth(token), "Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    async with asgi_client(app) as http:
        for _ in range(2):  # refused by tus (no metadata) but counted
            assert (await http.post("/uploads/", headers=headers)).status_code == 400
        refused = await http.post("/uploads/", headers=headers)
        assert refused.status_code == 429, refused.text
        assert refused.headers["Tus-Resumable"] == "1.0.0"
        retry = int(refused.headers["Retry-After"])
        assert refused.json()["error"]["code"] == "RATE_LIMITED"
        assert refused.json()["error"]["retryAfter"] == retry
        # The API bucket is separate.
        assert (await http.post("/graphql", json=ME, headers=auth(token))).status_code == 200


async def test_ip_upload_limit(limited_app: Callable[..., Any]) -> None:
    app = limited_app(ip_uploads_per_minute=1)
    async with asgi_client(app, ip="10.9.0.4") as http:
        assert (await http.head("/uploads/x", headers={"Tus-Resumable": "1.0.0"})).status_code == 401
        assert (await http.head("/uploads/x", headers={"Tus-Resumable": "1.0.0"})).status_code == 429


async def test_disabled_limits_let_everything_through(limited_app: Callable[..., Any]) -> None:
    app = limited_app(enabled=False, ip_api_per_minute=1)
    async with asgi_client(app, ip="10.9.0.5") as http:
        for _ in range(3):
            assert (await http.post("/graphql", json=ME)).status_code == 200


async def test_each_tenant_gets_the_tier_of_its_plan(limited_app: Callable[..., Any], tenant_factory: Any,
                                                     user_factory: Any) -> None:
    from app.db import system_tx

    free, pro = await tenant_factory(), await tenant_factory()
    async with system_tx():
        await Tenant.filter(id=pro.id).update(plan="pro")
    app = limited_app(plans={"free": RateTier(api_per_minute=1, uploads_per_minute=0, cost_per_minute=0),
                             "pro": RateTier(api_per_minute=3, uploads_per_minute=0, cost_per_minute=0)},
                      default_plan="free")
    (_, free_token), (_, pro_token) = await user_factory(free), await user_factory(pro)
    async with asgi_client(app) as http:
        codes = {name: [(await http.post("/graphql", json=ME, headers=auth(token))).status_code for _ in range(4)]
                 for name, token in (("free", free_token), ("pro", pro_token))}
    assert codes == {"free": [200, 429, 429, 429], "pro": [200, 200, 200, 429]}
