"""Signed, expiring, tenant-bound download URLs served with HTTP Range support.

A URL carries a compact payload (tenant, owner object, storage key, expiry, display name) and an
HMAC-SHA256 of it under ``settings.signing_secret``. Serving checks the signature, the expiry and
that the owner (a job, an asset or a project) still exists in that tenant, under row-level
security: deleting the job or project revokes every URL made for it.

    url = sign_download(settings, tenant_id=t, owner=("job", job_id), key=output_key(job_id, "final.mp4"),
                        filename="My recap.mp4", expires_in=3600)
    # GET url (Range: bytes=0-1023) -> 206 with Content-Range
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Literal
from urllib.parse import quote
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from app.config import Settings
from app.db import tenant_tx
from app.metrics import DOWNLOAD_BYTES, counted_bytes
from app.models import Asset, AssetStatus, Job, Project
from app.services.usage import record_egress
from app.storage.errors import InvalidKeyError
from app.storage.keys import validate_key
from app.storage.shared import request_storage
from app.uploads.names import sanitize_filename
from app.urls import public_url

OwnerKind = Literal["job", "asset", "project", "export"]
_CONTEXT = b"recap-download-v1:"
MAX_TTL_S = 7 * 24 * 3600
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True, slots=True)
class Grant:
    tenant_id: UUID
    owner_kind: OwnerKind
    owner_id: UUID
    key: str
    expires: int
    filename: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), _CONTEXT + payload.encode(), hashlib.sha256).digest())


def sign_download(settings: Settings, *, tenant_id: UUID, owner: tuple[OwnerKind, UUID], key: str,
                  filename: str | None = None, expires_in: int = 3600, now: float | None = None) -> str:
    """An absolute URL (``settings.public_url``) granting GET of ``key`` until ``expires_in`` from now."""
    if not 1 <= expires_in <= MAX_TTL_S:
        raise ValueError(f"expires_in must be in 1..{MAX_TTL_S} seconds")
    validate_key(key)
    expires = int((now if now is not None else time.time()) + expires_in)
    name = sanitize_filename(filename or key.rsplit("/", 1)[-1])
    body = {"t": str(tenant_id), "o": f"{owner[0]}:{owner[1]}", "k": key, "e": expires, "n": name}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return public_url(settings, f"/downloads/{payload}.{_mac(settings.signing_secret, payload)}")


class GrantError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def verify_token(settings: Settings, token: str, *, now: float | None = None) -> Grant:
    """Check signature and expiry of a ``payload.mac`` token (403 tampered, 410 expired)."""
    payload, _, mac = token.partition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _mac(settings.signing_secret, payload).encode()):
        raise GrantError(403, "BAD_SIGNATURE", "this download link is not valid")
    try:
        body = json.loads(_unb64(payload))
        kind, _, owner_id = str(body["o"]).partition(":")
        if kind not in ("job", "asset", "project", "export"):
            raise ValueError(kind)
        grant = Grant(UUID(body["t"]), kind, UUID(owner_id), validate_key(body["k"]), int(body["e"]),  # type: ignore[arg-type]
                      str(body["n"]))
    except (ValueError, KeyError, TypeError, InvalidKeyError) as ex:
        raise GrantError(403, "BAD_SIGNATURE", "this download link is not valid") from ex
    if grant.expires < (now if now is not None else time.time()):
        raise GrantError(410, "LINK_EXPIRED", "this download link has expired")
    return grant


def _key_belongs(grant: Grant, project_id: UUID | None) -> bool:
    if grant.owner_kind == "job":
        return grant.key.split("/")[1] == str(grant.owner_id)
    if grant.owner_kind == "project":
        return grant.key.startswith(f"inputs/{grant.tenant_id}/{grant.owner_id}/")
    return project_id is not None and grant.key.startswith(f"inputs/{grant.tenant_id}/{project_id}/")


async def _export_alive(grant: Grant) -> bool:
    """A personal-data export belongs to a person, not a tenant: ``tenant_id`` carries the user's id."""
    from datetime import UTC, datetime

    from app.db import system_tx
    from app.models import DataExport

    async with system_tx() as conn:
        export = await DataExport.filter(id=grant.owner_id, user_id=grant.tenant_id, state="ready").using_db(conn) \
            .first()
    return (export is not None and export.storage_key == grant.key
            and (export.expires_at is None or export.expires_at > datetime.now(UTC)))


async def check_owner(grant: Grant) -> str | None:
    """Revocation: the owner must still exist in the grant's tenant. Returns a content type when known."""
    if grant.owner_kind == "export":
        if not await _export_alive(grant):
            raise GrantError(404, "NOT_FOUND", "this file no longer exists")
        return "application/zip"
    async with tenant_tx(grant.tenant_id) as conn:
        if grant.owner_kind == "job":
            alive = await Job.filter(id=grant.owner_id, tenant_id=grant.tenant_id).using_db(conn).exists()
            ok, content_type = alive and _key_belongs(grant, None), None
        elif grant.owner_kind == "project":
            alive = await Project.filter(id=grant.owner_id, tenant_id=grant.tenant_id).using_db(conn).exists()
            ok, content_type = alive and _key_belongs(grant, None), None
        else:
            asset = await Asset.filter(id=grant.owner_id, tenant_id=grant.tenant_id,
                                       status=AssetStatus.READY).using_db(conn).first()
            ok = asset is not None and asset.storage_key == grant.key
            content_type = asset.content_type if asset is not None else None
    if not ok:
        raise GrantError(404, "NOT_FOUND", "this file no longer exists")
    return content_type


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` of a single ``bytes=`` range; None = whole file; GrantError 416."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # multi-range or another unit: RFC 9110 lets us ignore it and send everything
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise GrantError(416, "RANGE_NOT_SATISFIABLE", "empty suffix range")
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise GrantError(416, "RANGE_NOT_SATISFIABLE", f"range outside 0-{size}")
    return start, end


async def download(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    size = 0
    try:
        grant = verify_token(settings, request.path_params["token"])
        content_type = await check_owner(grant)
        storage = request_storage(request)
        stat = await storage.stat(grant.key)
        if stat is None:
            raise GrantError(404, "NOT_FOUND", "this file no longer exists")
        size = stat.size
        span = parse_range(request.headers.get("range"), stat.size)
    except GrantError as ex:
        headers = {"Content-Range": f"bytes */{size}"} if ex.status == 416 else {}
        return JSONResponse({"error": {"code": ex.code, "message": str(ex)}}, status_code=ex.status, headers=headers)
    start, end = span or (0, stat.size)
    headers = {
        "Accept-Ranges": "bytes", "Content-Length": str(end - start), "Cache-Control": "private, no-transform",
        "ETag": f'"{stat.etag or f"{stat.size:x}-{int(stat.modified.timestamp()):x}"}"',
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(grant.filename)}",
    }
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{stat.size}"
    media_type = content_type or mimetypes.guess_type(grant.key)[0] or "application/octet-stream"
    status = 206 if span is not None else 200
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    body = counted_bytes(storage.open_range(grant.key, start, end), DOWNLOAD_BYTES,
                         partial(record_egress, grant.tenant_id))
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)


def download_routes() -> list[BaseRoute]:
    return [Route("/downloads/{token}", download, methods=["GET", "HEAD"], name="download")]
