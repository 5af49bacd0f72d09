"""Remote GPU worker tokens: narrowly scoped (the /gpu/v1 routes only), expiring, HMAC-signed.

``gw1.<payload>.<mac>``; the MAC key is derived from ``signing_secret`` with a label of its own, so no
other signed thing (a download link, a session) is ever a worker token, and a worker token is nothing
else. Mint one with ``mint_worker_token(settings, "colab-1", ttl_s=12 * 3600)`` (CLI:
``recap gpu-token``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from app.config import Settings
from app.errors import AuthError

PREFIX = "gw1"
SCOPE = "upscale:chunks"


@dataclass(frozen=True)
class WorkerClaims:
    worker_id: str
    expires_at: int


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.signing_secret.encode(), b"recap gpu worker token v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_worker_token(settings: Settings, worker_id: str, *, ttl_s: int = 12 * 3600, now: float | None = None) -> str:
    if not worker_id or len(worker_id) > 64 or not worker_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError("worker_id: 1-64 letters, digits, - or _")
    exp = int((now or time.time()) + ttl_s)
    payload = _b64(json.dumps({"wid": worker_id, "exp": exp, "scope": SCOPE}, separators=(",", ":")).encode())
    mac = _b64(hmac.new(_key(settings), f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest())
    return f"{PREFIX}.{payload}.{mac}"


def verify_worker_token(settings: Settings, token: str, *, now: float | None = None) -> WorkerClaims:
    """The token's worker; AuthError (UNAUTHENTICATED) when forged, foreign, out of scope or expired."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise AuthError("not a GPU worker token")
    expected = _b64(hmac.new(_key(settings), f"{PREFIX}.{parts[1]}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), parts[2].encode()):
        raise AuthError("bad GPU worker token")
    try:
        data = json.loads(_unb64(parts[1]))
        wid, exp, scope = str(data["wid"]), int(data["exp"]), data["scope"]
    except (ValueError, KeyError, TypeError) as ex:
        raise AuthError("bad GPU worker token") from ex
    if scope != SCOPE:
        raise AuthError("the token is not for GPU work")
    if exp <= (now or time.time()):
        raise AuthError("the GPU worker token expired", code="TOKEN_EXPIRED")
    return WorkerClaims(wid, exp)
