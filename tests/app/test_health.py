"""/healthz, /readyz and /metrics through the real app and its lifespan."""

from __future__ import annotations

import socket
from typing import Any

import httpx

from app.config import Settings
from app.main import create_app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_database_and_redis_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


async def test_readyz_503_when_redis_is_down(settings: Settings, orm: None) -> None:
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.get("/readyz")
    body: dict[str, Any] = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False and "Connection" in body["checks"]["redis"]["error"]


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/no/such/path")
    await client.post("/healthz")
    text = (await client.get("/metrics")).text
    assert 'recap_http_requests_total{method="POST",route="/healthz",status="405"}' in text
    assert 'recap_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    # Unknown paths are the console's client-side routes when it is built (labelled by its template), else 404.
    assert 'route="<unmatched>",status="404"' in text or 'route="/{path:path}",status="200"' in text
    assert "recap_http_request_duration_seconds_bucket" in text
    assert "/no/such/path" not in text


async def test_cors_exposes_tus_headers_to_allowed_origins(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": ["https://spa.example"]}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        allowed = await http.options("/uploads/", headers={"Origin": "https://spa.example",
                                                           "Access-Control-Request-Method": "PATCH"})
        other = await http.options("/uploads/", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "PATCH"})
        simple = await http.get("/healthz", headers={"Origin": "https://spa.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://spa.example"
    assert "PATCH" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in other.headers
    assert "Upload-Offset" in simple.headers["access-control-expose-headers"]
