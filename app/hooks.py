"""``POST /hooks/drive``: ingest a Google Drive file into a project (for an n8n Drive trigger).

The request is signed with ``settings.webhook_secret``::

    X-Recap-Timestamp: <unix seconds>
    X-Recap-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body>
    {"fileId": "1AbC...", "projectId": "<uuid>", "kind": "source_video"}

Signatures older than 5 minutes are refused; the same (project, file) is ingested at most once an
hour (a retry after a failed ingest is accepted at once).
The answer is 202 with the upload and asset ids; the download, probe and storage run after it.

The body is read with a 16 KB limit as it arrives (413 past it). Drive must report the file's size
(a file without one, e.g. a native Google Doc, is refused with ``DRIVE_SIZE_UNKNOWN``); that size is
checked against the upload limit and reserved against the storage quota, the download stops at it,
and a file whose bytes differ from it is refused (``DRIVE_SIZE_MISMATCH``): the reservation is freed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from uuid import UUID

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.config import Settings
from app.db import system_tx
from app.errors import AppError, NotFoundError, QuotaExceededError, ValidationError
from app.http_body import BodyTooLargeError, read_limited
from app.models import Project, Upload
from app.redis import get_redis
from app.storage import Storage
from app.storage.errors import StorageError
from app.storage.gdrive_files import check_file_id, download_file, drive_http
from app.storage.shared import request_storage
from app.uploads import service
from app.uploads.completion import complete_upload

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024
MAX_SKEW_S = 300
DEDUPE_TTL_S = 3600


def sign_hook(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers that authenticate ``body`` (what n8n computes; used by tests and clients)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Recap-Timestamp": ts, "X-Recap-Signature": f"sha256={mac}"}


def verify_hook(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return False
    expected = sign_hook(secret, body, int(timestamp))["X-Recap-Signature"]
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _parse(body: bytes) -> tuple[str, UUID, str]:
    try:
        data = json.loads(body)
        file_id = check_file_id(str(data["fileId"]))
        project_id = UUID(str(data["projectId"]))
        kind = str(data.get("kind") or "source_video")
    except (ValueError, KeyError, TypeError, StorageError) as ex:
        raise ValidationError("body must be {fileId, projectId[, kind]}") from ex
    return file_id, project_id, kind


async def drive_hook(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        body = await read_limited(request, MAX_BODY)
    except BodyTooLargeError:
        return _error(413, BodyTooLargeError.code, "the hook body is limited to 16 KB")
    if not verify_hook(settings.webhook_secret, body, request.headers.get("x-recap-timestamp"),
                       request.headers.get("x-recap-signature")):
        return _error(401, "BAD_SIGNATURE", "missing, stale or wrong X-Recap-Signature")
    try:
        return await _ingest(request, settings, body)
    except QuotaExceededError as ex:
        return _error(413, ex.code, ex.message)
    except NotFoundError as ex:
        return _error(404, ex.code, ex.message)
    except AppError as ex:
        return _error(400, ex.code, ex.message)
    except StorageError as ex:
        return _error(503 if ex.code == "STORAGE_UNAVAILABLE" else 404, ex.code, str(ex))


async def _ingest(request: Request, settings: Settings, body: bytes) -> Response:
    file_id, project_id, kind = _parse(body)
    async with system_tx():
        project = await Project.filter(id=project_id).first()
    if project is None:
        raise NotFoundError("project not found", "projectId")
    tenant_id: UUID = project.tenant_id  # type: ignore[attr-defined]
    dedupe = f"recap:hook:drive:{project_id}:{file_id}"
    if not await get_redis(settings).set(dedupe, "1", nx=True, ex=DEDUPE_TTL_S):
        return JSONResponse({"status": "duplicate"}, status_code=200)
    http = drive_http(settings)
    try:
        meta = await http.file_metadata(file_id)
        upload = await service.create_upload_for(
            tenant_id, None, settings, length=_reported_size(meta),
            metadata={"filename": str(meta.get("name", "")), "projectId": str(project_id), "kind": kind,
                      "source": "drive", "driveFileId": file_id})
    except BaseException:
        await http.close()
        await get_redis(settings).delete(dedupe)
        raise
    task = BackgroundTask(_fetch_and_complete, http, file_id, upload, settings, request_storage(request), dedupe)
    return JSONResponse({"status": "accepted", "uploadId": str(upload.id), "assetId": upload.metadata["asset_id"]},
                        status_code=202, background=task)


class DriveSizeError(ValidationError):
    """Drive did not report a usable size, or sent other bytes than it reported."""


def _reported_size(meta: dict[str, Any]) -> int:
    """The size Drive reports: it is what the upload reserves, so a file without one is refused."""
    size = str(meta.get("size", ""))
    if not (size.isascii() and size.isdigit()) or len(size) > 19:
        raise DriveSizeError("Drive reports no size for this file (native Google files cannot be ingested)",
                             "fileId", code="DRIVE_SIZE_UNKNOWN")
    return int(size)


async def _fetch_and_complete(http: Any, file_id: str, upload: Upload, settings: Settings, storage: Storage,
                              dedupe: str) -> None:
    expected = int(upload.length or 0)
    try:
        # Never more than the reserved size (itself within the upload limit): a lying Drive stops here.
        size = await download_file(http, file_id, service.part_path(settings, upload.id), max_bytes=expected)
        if size != expected:
            raise DriveSizeError(f"Drive sent {size} bytes for a file it reported as {expected}", "fileId",
                                 code="DRIVE_SIZE_MISMATCH")
        await service.save_progress(upload, size, settings)
        await complete_upload(upload, settings, storage)
    except Exception as ex:  # a background task has nobody to answer: log it, let a later call retry
        log.warning("Drive ingest of %s failed: %s: %s", file_id, type(ex).__name__, ex)
        await _abandon(upload, settings, dedupe)
    finally:
        await http.close()


async def _abandon(upload: Upload, settings: Settings, dedupe: str) -> None:
    """A failed ingest frees its reservation and partial bytes; a later call starts over."""
    try:
        if upload.state in service.OPEN_STATES:
            await service.terminate_upload(upload, settings)
    finally:
        await get_redis(settings).delete(dedupe)


def hook_routes() -> list[BaseRoute]:
    return [Route("/hooks/drive", drive_hook, methods=["POST"], name="drive_hook")]
