"""The console's cookie session endpoints (/auth/*): the refresh token lives only in an HttpOnly cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_PASSWORD

WEB = {"X-Recap-Client": "web"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Over https, as browsers send ``Secure`` cookies only there (and to localhost)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://test") as http:
        yield http


async def _register(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/auth/register", headers=WEB, json={
        "email": email, "password": TEST_PASSWORD, "displayName": "Web User", "tenantName": "Web Tenant"})


async def test_register_sets_an_httponly_strict_cookie_and_hides_the_refresh_token(client: httpx.AsyncClient) -> None:
    response = await _register(client, "web-cookie@example.com")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accessToken"] and "refreshToken" not in body and "rt1." not in response.text
    cookie = response.headers["set-cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/auth"):
        assert flag.lower() in cookie.lower(), cookie
    assert response.headers["cache-control"] == "no-store"


async def test_refresh_rotates_the_cookie_and_a_replayed_cookie_is_refused(client: httpx.AsyncClient) -> None:
    await _register(client, "web-refresh@example.com")
    first = client.cookies.get("recap_rt")
    assert first
    refreshed = await client.post("/auth/refresh", headers=WEB, json={})
    assert refreshed.status_code == 200, refreshed.text
    second = client.cookies.get("recap_rt")
    assert second and second != first
    me = await client.post("/graphql", json={"query": "{ me { user { email } } }"},
                           headers={"Authorization": f"Bearer {refreshed.json()['accessToken']}"})
    assert me.json()["data"]["me"]["user"]["email"] == "web-refresh@example.com"
    client.cookies.clear()
    client.cookies.set("recap_rt", first)
    replay = await client.post("/auth/refresh", headers=WEB, json={})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "TOKEN_REUSED"


async def test_session_calls_without_the_client_header_or_from_another_origin_are_refused(
        client: httpx.AsyncClient) -> None:
    bare = await client.post("/auth/login", json={"email": "a@example.com", "password": "x"})
    assert bare.status_code == 403 and bare.json()["error"]["code"] == "CSRF_REJECTED"
    evil = await client.post("/auth/login", headers={**WEB, "Origin": "https://evil.example"},
                             json={"email": "a@example.com", "password": "x"})
    assert evil.json()["error"]["code"] == "CSRF_REJECTED"
    assert "set-cookie" not in evil.headers


async def test_bad_bodies_get_typed_errors(client: httpx.AsyncClient) -> None:
    broken = await client.post("/auth/login", headers=WEB, content=b"\xff\xfe{")
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "VALIDATION_FAILED"
    huge = await client.post("/auth/login", headers=WEB, content=b"{" + b" " * 20000 + b"}")
    assert huge.status_code == 400
    wrong = await client.post("/auth/login", headers=WEB,
                              json={"email": "nobody@example.com", "password": "nope-nope-1"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "UNAUTHENTICATED"


async def test_logout_revokes_the_session_and_clears_the_cookie(client: httpx.AsyncClient) -> None:
    await _register(client, "web-logout@example.com")
    token = client.cookies.get("recap_rt")
    out = await client.post("/auth/logout", headers=WEB, json={})
    assert out.status_code == 200 and 'recap_rt=""' in out.headers["set-cookie"]
    client.cookies.clear()
    client.cookies.set("recap_rt", token or "")
    again = await client.post("/auth/refresh", headers=WEB, json={})
    assert again.status_code == 401
