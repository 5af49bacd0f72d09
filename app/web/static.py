"""Serve the built console (``app/web/dist``, made by ``npm run build`` in ``web/``) at ``/``.

Hashed assets (``/assets/*-<hash>.js``) are immutable for a year; ``index.html`` is ``no-cache``
and carries a strict Content-Security-Policy (no inline scripts or styles; connections only to
this origin, websockets included). Every other GET path that is not an API route falls back to
``index.html`` so client-side routes survive a reload. Nothing is mounted when the console is not
built (the API works without it; ``recap doctor`` says so).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.config import Settings

DIST = Path(__file__).with_name("dist")
_API_PREFIXES = ("graphql", "uploads", "downloads", "hooks", "auth", "metrics", "healthz", "readyz")
_YEAR = 365 * 24 * 3600


def console_csp(settings: Settings) -> str:
    """The console's policy: only this origin; ws(s) to it for subscriptions; media from signed links."""
    parts = urlsplit(settings.public_url)
    ws = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            f"media-src 'self' blob:; connect-src 'self' {ws}; font-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _security_headers(settings: Settings) -> dict[str, str]:
    return {"Content-Security-Policy": console_csp(settings), "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def _file(dist: Path, rel: str) -> Path | None:
    """``dist/rel`` when it is a file inside ``dist`` (no traversal)."""
    candidate = (dist / rel).resolve()
    if dist.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def console_routes(settings: Settings, dist: Path = DIST) -> list[BaseRoute]:
    """The SPA routes, or none when ``dist/index.html`` is absent."""
    index = dist / "index.html"
    if not index.is_file():
        return []
    headers = _security_headers(settings)

    async def serve(request: Request) -> Response:
        rel = request.path_params.get("path", "")
        if rel.split("/", 1)[0] in _API_PREFIXES:
            return PlainTextResponse("Not Found", status_code=404)
        found = _file(dist, rel) if rel else None
        if found is not None and found.name != "index.html":
            immutable = rel.startswith("assets/")
            cache = f"public, max-age={_YEAR}, immutable" if immutable else "public, max-age=300"
            media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            return FileResponse(found, media_type=media_type, headers={**headers, "Cache-Control": cache})
        if "." in rel.rsplit("/", 1)[-1]:  # a missing asset is a 404, not the app
            return PlainTextResponse("Not Found", status_code=404, headers=headers)
        return FileResponse(index, media_type="text/html", headers={**headers, "Cache-Control": "no-cache"})

    return [Route("/", serve, methods=["GET", "HEAD"]), Route("/{path:path}", serve, methods=["GET", "HEAD"])]
