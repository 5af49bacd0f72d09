"""HTTP hardening of the API: undecodable bodies are 400s, security headers everywhere, no schema
suggestions in production, /metrics guarded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Environment, Settings
from app.graphql.app import make_graphql_app
from app.main import create_app
from app.security_headers import API_CSP
from app.web.static import console_csp, console_routes


def _production(settings: Settings, **update: Any) -> Settings:
    strong = "s" * 40
    return settings.model_copy(update={"env": Environment.PRODUCTION, "signing_secret": strong,
                                       "webhook_secret": strong,
                                       "auth": settings.auth.model_copy(update={"jwt_secret": strong}), **update})


@pytest.mark.parametrize(("body", "code"), [
    (b'{"query": "{ __typename \xff\xfe }"}', "INVALID_ENCODING"),
    (b'\xff\xfe\x00', "INVALID_ENCODING"),
    (b'{"query": "{ __typename }", "variables": {"x": "\xc3"}}', "INVALID_ENCODING"),
    (b'{"query": "{ __typename }", "variables": {"x": "\\ud800"}}', "INVALID_ENCODING"),
    (b'{"query": "{ __typename }", "variables": {"\\udfff": 1}}', "INVALID_ENCODING"),
    (b'{"query": ', "INVALID_JSON"),
])
async def test_undecodable_body_is_400_with_a_code(client: httpx.AsyncClient, body: bytes, code: str) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    ok = await client.post("/graphql", json={"query": "{ __typename }"})  # the server is fine afterwards
    assert ok.json() == {"data": {"__typename": "Query"}}


def _assert_common(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_security_headers_on_api_responses(client: httpx.AsyncClient) -> None:
    graphql = await client.post("/graphql", json={"query": "{ __typename }"})
    auth = await client.post("/auth/refresh", headers={"X-Recap-Client": "web"})
    for response in (graphql, auth):
        _assert_common(response)
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-security-policy"] == API_CSP
    bad = await client.post("/graphql", content=b"\xff", headers={"content-type": "application/json"})
    assert bad.headers["cache-control"] == "no-store"
    for response in (await client.get("/healthz"), await client.options("/uploads/"),
                     await client.get("/downloads/nope.nope"), await client.get("/metrics")):
        _assert_common(response)
        assert response.headers["content-security-policy"] == API_CSP


async def test_graphiql_page_keeps_its_scripts_but_cannot_be_framed(client: httpx.AsyncClient) -> None:
    ide = await client.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200  # development: the IDE is on
    _assert_common(ide)
    assert ide.headers["content-security-policy"] == "frame-ancestors 'none'"


async def test_console_keeps_its_own_csp(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Recap</title>")
    app = create_app(settings)
    app.router.routes.extend(console_routes(settings, tmp_path))  # the console, as if it were built
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        page = await http.get("/projects/42")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == console_csp(settings)
    assert page.headers["cache-control"] == "no-cache" and page.headers["x-frame-options"] == "DENY"


async def test_no_field_suggestions_in_production(settings: Settings) -> None:
    typo = {"query": "{ me { usr { id } } }"}
    for env_settings, suggests in ((settings, True), (_production(settings), False)):
        transport = httpx.ASGITransport(app=make_graphql_app(env_settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = (await http.post("/", json=typo)).json()
            enum = (await http.post("/", json={"query": 'mutation { prepareUpload(input: {projectId: "x", '
                                                        'filename: "a", kind: "source_vide"}) { __typename } }'})
                    ).json()
        messages = [e["message"] for e in body["errors"] + enum["errors"]]
        assert any("usr" in m for m in messages), messages
        assert any("Did you mean" in m for m in messages) is suggests, messages


async def _metrics(settings: Settings, client_host: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings), client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get("/metrics", headers=headers or {})


async def test_metrics_are_not_public_in_production(settings: Settings) -> None:
    assert (await _metrics(settings, "203.0.113.7")).status_code == 200  # development: open
    prod = _production(settings)
    assert (await _metrics(prod, "203.0.113.7")).status_code == 404
    assert (await _metrics(prod, "127.0.0.1")).status_code == 200  # a node-local scraper
    tokened = _production(settings, metrics_token="m" * 32)
    assert (await _metrics(tokened, "127.0.0.1")).status_code == 401
    wrong = await _metrics(tokened, "203.0.113.7", {"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.headers["www-authenticate"]) == (401, "Bearer")
    right = await _metrics(tokened, "203.0.113.7", {"Authorization": f"Bearer {'m' * 32}"})
    assert right.status_code == 200 and b"recap_http_requests_total" in right.content


@pytest.mark.parametrize("body", [
    b'{"email": "ann@example.com", "password": "\\ud800Correct-Horse-42"}',
    b'{"email": "ann\\udfff@example.com", "password": "Correct-Horse-42"}',
    b'{"email": "ann@example.com", "password": "Correct\\u0000Horse-42"}',
    b'{"email": "ann\\u0000@example.com", "password": "Correct-Horse-42"}',
    b'{"email": "ann@example.com", "password": "\xff\xfe"}',
    b'{"email": ["ann@example.com"], "password": 42}',
])
async def test_session_endpoints_refuse_undecodable_text(client: httpx.AsyncClient, body: bytes) -> None:
    for path in ("/auth/login", "/auth/register"):
        response = await client.post(path, content=body, headers={"content-type": "application/json",
                                                                  "x-recap-client": "web"})
        assert response.status_code in (400, 401), (path, response.status_code, response.text)
        assert response.json()["error"]["code"] in ("INVALID_ENCODING", "VALIDATION_FAILED", "UNAUTHENTICATED")
