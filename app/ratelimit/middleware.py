"""ASGI middleware: request rates on /graphql (HTTP) and /uploads, per client IP and per tenant (plan tier),
and the cap on websocket connections per IP on /graphql.

A refused HTTP call gets **429** with ``Retry-After``; /graphql answers a GraphQL body
(``errors[0].extensions = {code: RATE_LIMITED, retryAfter}``), /uploads the tus error body
(``{"error": {code, message, retryAfter}}``). A websocket over the cap is refused at the handshake
(HTTP 429 where the server supports the ASGI denial response, else close 1008).

    middleware.append(Middleware(RateLimitMiddleware, settings=settings))
"""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.tokens import bearer_token, decode_access_token
from app.config import Settings
from app.errors import AuthError, RateLimitedError
from app.ratelimit.limiter import Limiter
from app.ratelimit.live import live_slot
from app.ratelimit.plans import tier_of
from app.unavailable import is_unavailable

log = logging.getLogger(__name__)

#: ``scope`` key under which the GraphQL cost extension finds the limiter.
SCOPE_KEY = "recap.limiter"


def _bucket(path: str) -> str | None:
    if path == "/graphql" or path == "/graphql/":
        return "api"
    if path == "/uploads" or path.startswith("/uploads/"):
        return "uploads"
    return None


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limiter = Limiter(settings.ratelimit)
        self._last_outage_log = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bucket = _bucket(scope.get("path", "")) if scope["type"] in ("http", "websocket") else None
        if bucket is None or not self.settings.ratelimit.enabled:
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = self.limiter
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope.get("method") != "OPTIONS":  # CORS preflights carry no credentials
            try:
                await self._check(scope, bucket)
            except RateLimitedError as ex:
                await _refuse_http(send, bucket, ex)
                return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, bucket: str) -> None:
        """Count the request; when Redis or PostgreSQL is down, let it through (fail open, logged once a minute):
        the endpoint then answers a typed ``UNAVAILABLE`` itself, instead of this middleware answering a 500."""
        try:
            await self._count(scope, bucket)
        except RateLimitedError:
            raise
        except Exception as ex:
            if not is_unavailable(ex):
                raise
            now = time.monotonic()
            if now - self._last_outage_log > 60:
                self._last_outage_log = now
                log.warning("rate limits not checked: a backing service is unavailable: %s: %s", type(ex).__name__, ex)

    async def _count(self, scope: Scope, bucket: str) -> None:
        limits = self.settings.ratelimit
        ip_limit = limits.ip_api_per_minute if bucket == "api" else limits.ip_uploads_per_minute
        await self.limiter.hit(bucket, f"ip:{_client_ip(scope)}", per_minute=ip_limit)
        token = bearer_token(_header(scope, b"authorization"))
        if token is None:
            return
        try:
            principal = decode_access_token(token, settings=self.settings.auth)
        except AuthError:
            return  # the endpoint answers 401; the IP limit already counted it
        tier = await tier_of(principal.tenant_id, limits)
        per_minute = tier.api_per_minute if bucket == "api" else tier.uploads_per_minute
        await self.limiter.hit(bucket, f"tenant:{principal.tenant_id}", per_minute=per_minute)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        slot = live_slot(f"ws:ip:{_client_ip(scope)}", cap=self.settings.ratelimit.max_ws_connections_per_ip,
                         what="websocket connections per address")
        try:
            await slot.enter()
        except RateLimitedError as ex:
            await _refuse_websocket(scope, receive, send, ex)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await slot.leave()


def _body(bucket: str, ex: RateLimitedError) -> bytes:
    if bucket == "api":
        error = {"message": ex.message, "extensions": {"code": ex.code, "retryAfter": ex.retry_after}}
        return json.dumps({"data": None, "errors": [error]}).encode()
    return json.dumps({"error": {"code": ex.code, "message": ex.message, "retryAfter": ex.retry_after}}).encode()


def _headers(body: bytes, ex: RateLimitedError, *, tus: bool) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(ex.retry_after).encode()), (b"cache-control", b"no-store")]
    if tus:
        headers.append((b"tus-resumable", b"1.0.0"))
    return headers


async def _refuse_http(send: Send, bucket: str, ex: RateLimitedError) -> None:
    body = _body(bucket, ex)
    await send({"type": "http.response.start", "status": 429, "headers": _headers(body, ex, tus=bucket != "api")})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send, ex: RateLimitedError) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = _body("api", ex)
        headers = [(b"retry-after", str(ex.retry_after).encode())]  # the server adds length and type
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": "too many websocket connections"})
