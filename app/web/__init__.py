"""The web console: its cookie session endpoints (``/auth/*``) and the built SPA served at ``/``.

    routes = web_routes(settings)   # mounted last by create_app: /auth/session..., then the SPA
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from app.config import Settings
from app.web.session import session_routes
from app.web.static import console_routes


def web_routes(settings: Settings) -> list[BaseRoute]:
    """``/auth/*`` (refresh token in an HttpOnly cookie) and the console (when it is built)."""
    return [*session_routes(), *console_routes(settings)]


__all__ = ["web_routes"]
