"""The requester's IP and user agent for audit events, kept in a context variable per request.

    app = Starlette(middleware=[Middleware(AuditContextMiddleware), ...])
    await audit.record(conn, ...)          # ip and user_agent default to the current request's

Pure ASGI (no body buffering), so streaming downloads and tus uploads pass straight through.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

_requester: ContextVar[tuple[str | None, str | None]] = ContextVar("recap_audit_requester", default=(None, None))


def current_requester() -> tuple[str | None, str | None]:
    """(ip, user agent) of the request being served, (None, None) outside one (workers, CLI)."""
    return _requester.get()


class AuditContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        agent = next((bytes(v).decode("latin-1") for k, v in scope.get("headers") or [] if k == b"user-agent"), None)
        token = _requester.set((str(client[0]) if client else None, agent[:256] if agent else None))
        try:
            await self.app(scope, receive, send)
        finally:
            _requester.reset(token)
