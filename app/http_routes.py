"""Routes other parts add to the app (uploads, downloads, ...): one import and one line each."""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.uploads.routes import upload_routes


def extra_routes() -> list[BaseRoute]:
    """Routes mounted by ``create_app`` besides /healthz, /readyz, /metrics and /graphql."""
    routes: list[BaseRoute] = []
    routes += upload_routes()  # tus /uploads/, signed /downloads/, /hooks/drive
    return routes
