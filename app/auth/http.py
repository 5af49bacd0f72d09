"""Bearer authentication for plain HTTP routes (tus uploads, downloads).

    principal = await principal_from_request(request)   # AuthError -> answer 401

The role is the caller's current one (``app.auth.access``), not the one written in the token.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from app.auth import access
from app.auth.principal import Principal
from app.auth.tokens import bearer_token, decode_access_token
from app.config import AuthSettings, Settings
from app.errors import AuthError


def _settings(request: HTTPConnection) -> Settings | None:
    settings = getattr(request.app.state, "settings", None) if "app" in request.scope else None
    return settings if isinstance(settings, Settings) else None


def _auth_settings(request: HTTPConnection) -> AuthSettings | None:
    settings = _settings(request)
    return settings.auth if settings is not None else None


def _redis(request: HTTPConnection) -> Any:
    from app.redis import get_redis

    settings = _settings(request)
    return get_redis(settings) if settings is not None and settings.redis_url else None


async def principal_from_request(request: HTTPConnection) -> Principal:
    """The Principal of the request's ``Authorization: Bearer`` access token.

    Raises:
        AuthError: no bearer token, an invalid/expired one, or the membership is gone.
    """
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise AuthError("missing bearer token")
    claimed = decode_access_token(token, settings=_auth_settings(request))
    return await access.current_principal(claimed, _redis(request))
