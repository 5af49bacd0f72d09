"""The Starlette application: lifespan (database, Redis, storage, Sentry) and routes.

    app = create_app()          # uvicorn app.main:create_app --factory
    # /healthz /readyz /metrics /graphql (HTTP + graphql-transport-ws) + app.http_routes.extra_routes()

Every response carries the security headers of :mod:`app.security_headers`; ``/metrics`` is guarded by
:mod:`app.metrics_access`. Shutdown closes what the process opened: the event hubs, the queue pool, the
shared storages, Redis and the database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from app.audit_context import AuditContextMiddleware
from app.config import Settings, get_settings
from app.db import close_db, init_db
from app.events import close_hubs
from app.gpu.routes import gpu_routes
from app.health import healthz, readyz
from app.http_routes import extra_routes
from app.log_redaction import install_redaction
from app.logs import RequestIdMiddleware
from app.metrics import PrometheusMiddleware, metrics
from app.metrics_access import guard_metrics
from app.observability import init_sentry
from app.queue import close_pool
from app.ratelimit import RateLimitMiddleware
from app.redis import close_redis
from app.security_headers import SecurityHeadersMiddleware
from app.storage.shared import close_shared_storages, shared_storage
from app.tracing import TracingMiddleware, init_tracing

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; nothing connects until the lifespan starts."""
    settings = settings or get_settings()
    install_redaction()  # privacy-compliant logs (docs/compliance.md#logs)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        init_sentry(settings)
        init_tracing(settings, service="recap-api")
        await init_db(settings)
        # Readiness pings through the app's own client: the URL is this app's settings.
        app.state.redis = aioredis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0",
                                                  socket_connect_timeout=2)
        app.state.storage = shared_storage(settings)
        try:
            yield
        finally:
            await close_hubs()
            await close_pool()
            await close_shared_storages()
            await app.state.redis.aclose()
            await close_redis()
            await close_db()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", guard_metrics(metrics, settings), methods=["GET"]),
        *_graphql_routes(settings),
        *extra_routes(),
        *gpu_routes(),  # remote GPU workers (/gpu/v1)
        *_web_routes(settings),  # last: the console's catch-all GET route
    ]
    middleware = [Middleware(AuditContextMiddleware),  # IP and user agent for audit events
                  Middleware(RequestIdMiddleware), Middleware(SecurityHeadersMiddleware), Middleware(TracingMiddleware),
                  Middleware(PrometheusMiddleware)]
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        # tus clients in browsers must read these response headers (tus 1.0.0 "CORS" section).
        tus_headers = ["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Upload-Metadata",
                       "Upload-Defer-Length", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size",
                       "Tus-Checksum-Algorithm"]
        middleware.append(Middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                                     allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
                                     allow_headers=["*"], expose_headers=tus_headers, max_age=600))
    middleware.append(Middleware(RateLimitMiddleware, settings=settings))  # inside CORS: a 429 keeps its headers
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    return app


def _graphql_routes(settings: Settings) -> list[BaseRoute]:
    """/graphql over HTTP and websocket, when the GraphQL package provides its app."""
    try:
        from app.graphql.app import make_graphql_app
    except ModuleNotFoundError as ex:
        if ex.name != "app.graphql.app":
            raise
        log.warning("app.graphql.app is missing: /graphql is not mounted")
        return []
    graphql_app = make_graphql_app(settings)
    return [Route("/graphql", graphql_app), WebSocketRoute("/graphql", graphql_app)]


def _web_routes(settings: Settings) -> list[BaseRoute]:
    from app.web import web_routes

    return web_routes(settings)

