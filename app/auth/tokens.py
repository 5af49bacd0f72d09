"""JWT access tokens: short-lived, HMAC-signed, algorithm pinned, issuer/audience/expiry checked.

Claims: ``sub`` (user id), ``tid`` (tenant id), ``role``, ``pa`` (platform admin), ``jti``, ``iat``, ``exp``,
``iss``, ``aud``. Decoding accepts only the configured algorithm, so ``alg: none`` and algorithm
confusion are refused.

    token = issue_access_token(user.id, tenant.id, Role.OWNER)
    principal = decode_access_token(token)     # raises AuthError
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from functools import lru_cache
from uuid import UUID

import jwt

from app.auth.principal import Principal
from app.config import AuthSettings, get_settings
from app.errors import AuthError
from app.models.enums import Role

_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "tid", "role", "jti"]


def _auth(settings: AuthSettings | None) -> AuthSettings:
    return settings if settings is not None else get_settings().auth


@lru_cache(maxsize=8)
def signing_key(secret: str) -> bytes:
    """The HMAC key: derived from the configured secret (64 bytes, domain-separated from its other uses)."""
    return hmac.new(secret.encode(), b"recap/jwt-access/v1", hashlib.sha512).digest()


def issue_access_token(
    user_id: UUID, tenant_id: UUID, role: Role, *, is_platform_admin: bool = False,
    settings: AuthSettings | None = None, ttl_seconds: int | None = None, now: float | None = None,
) -> str:
    """Sign an access token for ``user_id`` acting in ``tenant_id`` with ``role``.

    Args:
        ttl_seconds: lifetime; defaults to ``settings.access_ttl_seconds`` (tests pass a negative one).
        now: issue time (epoch seconds); defaults to the current time.
    """
    auth = _auth(settings)
    issued = int(now if now is not None else time.time())
    ttl = auth.access_ttl_seconds if ttl_seconds is None else ttl_seconds
    claims: dict[str, object] = {
        "iss": auth.issuer, "aud": auth.audience, "sub": str(user_id), "tid": str(tenant_id),
        "role": role.value, "pa": is_platform_admin, "jti": uuid.uuid4().hex, "iat": issued, "exp": issued + ttl,
    }
    return jwt.encode(claims, signing_key(auth.jwt_secret), algorithm=auth.jwt_algorithm)


@lru_cache(maxsize=8)
def _decoder(secret: str, algorithm: str, issuer: str, audience: str) -> tuple[jwt.PyJWT, dict[str, object]]:
    options: dict[str, object] = {"require": _REQUIRED_CLAIMS, "verify_signature": True, "verify_exp": True,
                                  "verify_iss": True, "verify_aud": True, "verify_iat": True}
    kwargs: dict[str, object] = {"key": signing_key(secret), "algorithms": [algorithm], "issuer": issuer,
                                 "audience": audience}
    return jwt.PyJWT(options), kwargs  # type: ignore[arg-type]


def decode_access_token(token: str, *, settings: AuthSettings | None = None) -> Principal:
    """Verify ``token`` and return its Principal.

    Raises:
        AuthError: bad signature, wrong algorithm (incl. ``none``), wrong issuer/audience, expired,
            missing claims or malformed claim values.
    """
    auth = _auth(settings)
    decoder, kwargs = _decoder(auth.jwt_secret, auth.jwt_algorithm, auth.issuer, auth.audience)
    try:
        claims = decoder.decode(token, leeway=5, **kwargs)  # type: ignore[arg-type]
    except jwt.ExpiredSignatureError as ex:
        raise AuthError("access token expired") from ex
    except jwt.PyJWTError as ex:
        raise AuthError("invalid access token") from ex
    try:
        return Principal(user_id=UUID(str(claims["sub"])), tenant_id=UUID(str(claims["tid"])),
                         role=Role(claims["role"]), is_platform_admin=claims.get("pa") is True)
    except (ValueError, KeyError, TypeError) as ex:
        raise AuthError("invalid access token") from ex


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
