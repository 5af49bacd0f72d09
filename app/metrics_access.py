"""Who may read ``/metrics``: the scrape token, or (production without one) loopback clients only.

    RECAP_METRICS_TOKEN=<secret>    Prometheus sends ``Authorization: Bearer <secret>`` (any environment)
    unset, production               only 127.0.0.1 / ::1 (a sidecar or node-local scraper); others get 404
    unset, development / test       open

    Route("/metrics", guard_metrics(metrics, settings))
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.config import Settings

Endpoint = Callable[[Request], Awaitable[Response]]
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def metrics_allowed(request: Request, settings: Settings) -> bool:
    if settings.metrics_token:
        return hmac.compare_digest(_bearer(request).encode(), settings.metrics_token.encode())
    if settings.is_production:
        return request.client is not None and request.client.host in LOOPBACK
    return True


def guard_metrics(endpoint: Endpoint, settings: Settings) -> Endpoint:
    """``endpoint`` behind :func:`metrics_allowed`: 401 for a wrong token, 404 for a refused address."""
    async def guarded(request: Request) -> Response:
        if metrics_allowed(request, settings):
            return await endpoint(request)
        if settings.metrics_token:
            return JSONResponse({"error": {"code": "UNAUTHENTICATED", "message": "metrics need the scrape token"}},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse({"error": {"code": "NOT_FOUND", "message": "not found"}}, status_code=404)
    return guarded
