"""Cookie sessions for the web console: the refresh token never reaches JavaScript.

The console keeps only the short-lived access token, in memory. The refresh token lives in an
``HttpOnly; Secure; SameSite=Strict`` cookie scoped to ``/auth``, set and rotated by these
endpoints, which wrap the same service functions as the GraphQL mutations:

    POST /auth/login     {"email", "password", "tenantId"?}          -> {"accessToken", ...} + cookie
    POST /auth/register  {"email", "password", "displayName", "tenantName"}
    POST /auth/refresh   (cookie)                                     -> a new access token + next cookie
    POST /auth/switch    {"tenantId"} + bearer access token           -> tokens scoped to that tenant
    POST /auth/logout    (cookie)                                     -> revokes the family, clears it

CSRF: SameSite=Strict keeps the cookie off cross-site requests; on top, every call must carry
``X-Recap-Client: web`` (a custom header forces a CORS preflight that other origins fail) and a
JSON body, and an ``Origin`` header, when sent, must be ``RECAP_PUBLIC_URL``'s origin.
Errors are ``{"error": {"code", "message", "field"}}`` with the GraphQL error codes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.auth.principal import Principal
from app.config import Settings
from app.errors import AppError, AuthError, RateLimitedError, ValidationError
from app.http_body import BadTextError, decode_json_text
from app.services import auth
from app.services.auth import AuthResult
from app.services.text import parse_id

COOKIE = "recap_rt"
_MAX_BODY = 16 * 1024
_STATUS = {"UNAUTHENTICATED": 401, "TOKEN_REUSED": 401, "RATE_LIMITED": 429, "NOT_FOUND": 404,
           "PERMISSION_DENIED": 403, "CSRF_REJECTED": 403, "CONFLICT": 409}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _check_csrf(request: Request) -> None:
    if request.headers.get("x-recap-client") != "web":
        raise AuthError("missing X-Recap-Client header", code="CSRF_REJECTED")
    origin = request.headers.get("origin")
    if origin and origin != _origin(_settings(request).public_url):
        raise AuthError("cross-origin session request refused", code="CSRF_REJECTED")


async def _json(request: Request) -> dict[str, Any]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            raise ValidationError("request body too large")
    try:
        data = decode_json_text(body or b"{}")
    except BadTextError as ex:
        raise ValidationError(f"the body must be a JSON object ({ex})") from ex
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value):
        raise ValidationError(f"{name} is required", name)
    return value


def _error(ex: AppError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if isinstance(ex, RateLimitedError):
        headers["Retry-After"] = str(getattr(ex, "retry_after", 60))
    return JSONResponse({"error": {"code": ex.code, "message": ex.message, "field": ex.field}},
                        status_code=_STATUS.get(ex.code, 400), headers=headers)


def _session(request: Request, result: AuthResult) -> JSONResponse:
    body = {"accessToken": result.access_token, "expiresIn": result.expires_in, "tenantId": str(result.tenant_id),
            "role": result.role.name, "user": {"id": str(result.user.id), "email": result.user.email,
                                                "displayName": result.user.display_name,
                                                "isPlatformAdmin": bool(result.user.is_platform_admin)}}
    response = JSONResponse(body, headers={"Cache-Control": "no-store"})
    settings = _settings(request)
    response.set_cookie(COOKIE, result.refresh_token, max_age=settings.auth.refresh_ttl_seconds, path="/auth",
                        secure=True, httponly=True, samesite="strict")
    return response


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _login(request: Request) -> AuthResult:
    from app.redis import get_redis

    data = await _json(request)
    tenant = data.get("tenantId")
    tenant_id = parse_id(str(tenant), what="tenant", field="tenantId") if tenant else None
    return await auth.login(_settings(request), get_redis(_settings(request)), _text(data, "email"),
                            _text(data, "password"), tenant_id, ip=_client_ip(request))


async def _register(request: Request) -> AuthResult:
    from app.redis import get_redis

    data = await _json(request)
    return await auth.register(_settings(request), _text(data, "email"), _text(data, "password"),
                               _text(data, "displayName"), _text(data, "tenantName"), ip=_client_ip(request),
                               redis=get_redis(_settings(request)))


async def _refresh(request: Request) -> AuthResult:
    token = request.cookies.get(COOKIE)
    if not token:
        raise AuthError("no session")
    return await auth.refresh(_settings(request), token, ip=_client_ip(request))


async def _switch(request: Request) -> AuthResult:
    from app.auth.tokens import bearer_token, decode_access_token

    data = await _json(request)
    token = bearer_token(request.headers.get("authorization"))
    if not token:
        raise AuthError("a bearer access token is required")
    principal: Principal = decode_access_token(token, settings=_settings(request).auth)
    tenant_id = parse_id(_text(data, "tenantId"), what="tenant", field="tenantId")
    return await auth.switch_tenant(_settings(request), principal, tenant_id)


def _endpoint(action: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            _check_csrf(request)
            return _session(request, await action(request))
        except AppError as ex:
            return _error(ex)

    return endpoint


async def logout(request: Request) -> Response:
    try:
        _check_csrf(request)
    except AppError as ex:
        return _error(ex)
    token = request.cookies.get(COOKIE)
    if token:
        await auth.logout(_settings(request), token, ip=_client_ip(request))
    response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/auth", secure=True, httponly=True, samesite="strict")
    return response


def session_routes() -> list[BaseRoute]:
    return [Route("/auth/login", _endpoint(_login), methods=["POST"]),
            Route("/auth/register", _endpoint(_register), methods=["POST"]),
            Route("/auth/refresh", _endpoint(_refresh), methods=["POST"]),
            Route("/auth/switch", _endpoint(_switch), methods=["POST"]),
            Route("/auth/logout", logout, methods=["POST"])]
