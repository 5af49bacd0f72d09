"""Security headers on every HTTP response (pure ASGI middleware: streaming responses untouched).

    X-Content-Type-Options: nosniff       X-Frame-Options: DENY       Referrer-Policy: no-referrer
    Content-Security-Policy               API responses: nothing may load, nobody may frame them
    Cache-Control: no-store               /graphql and /auth/* (their bodies carry tokens)

A response that sets its own header keeps it (the console's pages carry their own strict CSP;
signed downloads and console assets their own caching). An HTML response without a policy (the
GraphiQL IDE in development) only gets ``frame-ancestors 'none'``, so its scripts still load.

    middleware = [Middleware(SecurityHeadersMiddleware), ...]
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HTML_CSP = "frame-ancestors 'none'"
#: Paths whose responses carry tokens (GraphQL auth payloads, the console's cookie session).
NO_STORE_PREFIXES = ("/graphql", "/auth/")
DEFAULTS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def _no_store(path: str) -> bool:
    return path == "/graphql" or path.startswith(NO_STORE_PREFIXES)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = _no_store(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS.items():
                    headers.setdefault(name, value)
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["Content-Security-Policy"] = HTML_CSP if html else API_CSP
                if no_store:
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)
