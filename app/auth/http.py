"""Bearer authentication for plain HTTP routes (tus uploads, downloads).

    principal = await principal_from_request(request)   # AuthError -> answer 401
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from app.auth.principal import Principal
from app.auth.tokens import bearer_token, decode_access_token
from app.config import AuthSettings
from app.errors import AuthError


def _auth_settings(request: HTTPConnection) -> AuthSettings | None:
    settings = getattr(request.app.state, "settings", None) if "app" in request.scope else None
    auth = getattr(settings, "auth", None)
    return auth if isinstance(auth, AuthSettings) else None


async def principal_from_request(request: HTTPConnection) -> Principal:
    """The Principal of the request's ``Authorization: Bearer`` access token.

    Raises:
        AuthError: no bearer token, or an invalid/expired one.
    """
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise AuthError("missing bearer token")
    return decode_access_token(token, settings=_auth_settings(request))
