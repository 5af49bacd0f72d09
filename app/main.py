"""The Starlette application: lifespan (database, Redis, storage, Sentry) and routes.

    app = create_app()          # uvicorn app.main:create_app --factory
    # /healthz /readyz /metrics /graphql (HTTP + graphql-transport-ws) + app.http_routes.extra_routes()
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from app.config import Settings, get_settings
from app.db import close_db, init_db
from app.health import healthz, readyz
from app.http_routes import extra_routes
from app.log_redaction import install_redaction
from app.metrics import PrometheusMiddleware, metrics
from app.observability import init_sentry
from app.redis import close_redis

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; nothing connects until the lifespan starts."""
    settings = settings or get_settings()
    install_redaction()  # privacy-compliant logs (docs/compliance.md#logs)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        init_sentry(settings)
        await init_db(settings)
        # Readiness pings through the app's own client: the URL is this app's settings.
        app.state.redis = aioredis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0",
                                                  socket_connect_timeout=2)
        app.state.storage = _storage(settings)
        try:
            yield
        finally:
            closer = getattr(app.state.storage, "close", None)
            if closer is not None:
                await closer()
            await app.state.redis.aclose()
            await close_redis()
            await close_db()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *_graphql_routes(settings),
        *extra_routes(),
        *_web_routes(settings),  # last: the console's catch-all GET route
    ]
    middleware = [Middleware(PrometheusMiddleware)]
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        # tus clients in browsers must read these response headers (tus 1.0.0 "CORS" section).
        tus_headers = ["Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Upload-Metadata",
                       "Upload-Defer-Length", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size",
                       "Tus-Checksum-Algorithm"]
        middleware.append(Middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                                     allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
                                     allow_headers=["*"], expose_headers=tus_headers, max_age=600))
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


def _storage(settings: Settings) -> object | None:
    try:
        from app.storage import get_storage
    except ModuleNotFoundError:
        return None
    return get_storage(settings)
