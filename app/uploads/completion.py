"""What happens when an upload's last byte arrives: validate, scan, store, record, wake the pipeline.

The content decides (never the extension): media kinds are probed with ``media.probe``; scripts
must be UTF-8 text. A refused file becomes a REJECTED Asset (and upload) carrying the code,
e.g. ``NOT_MEDIA``; an accepted one is moved into storage, its sha256 recorded, the tenant's
storage counter raised. No job waits for an upload: ``startRender`` admits only READY assets, and
queues its ingest at once.

    outcome = await complete_upload(upload, settings, storage)
    outcome.status, outcome.error_code, outcome.asset_id
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from app.config import Settings
from app.db import tenant_tx
from app.metrics import UPLOADS_COMPLETED
from app.models import Asset, AssetKind, AssetStatus, Upload, UploadState
from app.services import quota
from app.storage import Storage
from app.uploads import service
from app.uploads.clamd import scan_file
from media.errors import (
    BinaryScriptError,
    EmptyScriptError,
    InputError,
    MediaError,
    NoAudioStreamError,
    ScriptTooLargeError,
)
from media.types import MAX_SCRIPT_BYTES

log = logging.getLogger(__name__)
HASH_BLOCK = 4 * 1024 * 1024
_CONTENT_TYPES = {"mov": "video/mp4", "mp4": "video/mp4", "matroska": "video/x-matroska", "webm": "video/webm",
                  "avi": "video/x-msvideo", "mpegts": "video/mp2t", "mp3": "audio/mpeg", "wav": "audio/wav",
                  "flac": "audio/flac", "ogg": "audio/ogg", "aac": "audio/aac"}


@dataclass(frozen=True, slots=True)
class Outcome:
    asset_id: UUID
    status: AssetStatus
    error_code: str | None = None
    message: str | None = None


class MalwareFoundError(InputError):
    code = "MALWARE_DETECTED"


def validate_script(path: Path) -> dict[str, Any]:
    """A script must be non-empty UTF-8 text without NUL bytes, at most 2 MB."""
    size = path.stat().st_size
    if size > MAX_SCRIPT_BYTES:
        raise ScriptTooLargeError(f"the script is {size} bytes; at most {MAX_SCRIPT_BYTES}")
    raw = path.read_bytes()
    if b"\0" in raw:
        raise BinaryScriptError("the script contains NUL bytes: not a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        raise BinaryScriptError("the script is not UTF-8 text") from ex
    if not text.strip():
        raise EmptyScriptError("the script is empty")
    return {"chars": len(text), "lines": text.count("\n") + 1}


def validate_media(path: Path, kind: AssetKind) -> tuple[dict[str, Any], str | None]:
    """Probe the content; audio kinds need an audio stream, the others a video stream."""
    from media.probe import probe

    info = probe(path, require_video=kind is not AssetKind.NARRATION_AUDIO)
    if kind is AssetKind.NARRATION_AUDIO and not info.has_audio:
        raise NoAudioStreamError("the narration has no audio stream")
    data = info.to_json()
    data.pop("path", None)  # a server path: not the client's business
    fmt = info.format_name.split(",")[0]
    return data, _CONTENT_TYPES.get(fmt, "video/octet-stream" if info.has_video else "audio/octet-stream")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _inspect(path: Path, kind: AssetKind, running: Any) -> tuple[str, dict[str, Any], str | None]:
    """Blocking part: sha256 (unless kept while receiving) and the content validation."""
    digest = running.hexdigest() if running is not None else sha256_file(path)
    if kind is AssetKind.SCRIPT:
        return digest, validate_script(path), "text/plain; charset=utf-8"
    probe_data, content_type = validate_media(path, kind)
    return digest, probe_data, content_type


async def complete_upload(upload: Upload, settings: Settings, storage: Storage) -> Outcome:
    """Validate and store a fully received upload (idempotent for a finished one).

    Raises:
        ScanError: clamd is configured but gave no verdict (the upload stays open: retry).
    """
    done = service.asset_of(upload)
    if done is not None:
        status = AssetStatus.READY if upload.state == UploadState.COMPLETED else AssetStatus.REJECTED
        return Outcome(done, status, upload.error_code)
    path = service.part_path(settings, upload.id)
    asset_id = UUID(str(upload.metadata["asset_id"]))
    size = path.stat().st_size
    try:
        running = service.hasher_at(upload.id, size)
        service.drop_hasher(upload.id)
        digest, info, content_type = await asyncio.to_thread(_inspect, path, upload.kind, running)
        if settings.uploads.clamd_url:
            verdict = await scan_file(settings.uploads.clamd_url, path)
            if not verdict.clean:
                raise MalwareFoundError(f"the virus scanner found {verdict.signature}")
    except MediaError as ex:  # InputError codes, and DecodeError for a file the decoder chokes on
        outcome = Outcome(asset_id, AssetStatus.REJECTED, ex.code, str(ex))
        await _record(upload, outcome, size=size, sha256=None, probe=None, content_type=None)
        await asyncio.to_thread(path.unlink, True)
        return outcome
    await storage.put_file(upload.storage_key, path, move=True)
    outcome = Outcome(asset_id, AssetStatus.READY)
    await _record(upload, outcome, size=size, sha256=digest, probe=info, content_type=content_type)
    return outcome


async def _record(upload: Upload, outcome: Outcome, *, size: int, sha256: str | None, probe: dict[str, Any] | None,
                  content_type: str | None) -> None:
    tenant_id = service.tenant_of(upload)
    async with tenant_tx(tenant_id) as conn:
        # Under the quota lock: the upload's reservation becomes stored bytes in one step for every checker.
        await quota.lock_tenant_quota(conn, tenant_id)
        await Asset.create(id=outcome.asset_id, tenant_id=tenant_id, project_id=service.project_of(upload),
                           kind=upload.kind, status=outcome.status, filename=upload.filename,
                           storage_key=upload.storage_key if outcome.status is AssetStatus.READY else "",
                           size_bytes=size, sha256=sha256, content_type=content_type, probe=probe,
                           error_code=outcome.error_code, using_db=conn)
        state = UploadState.COMPLETED if outcome.status is AssetStatus.READY else UploadState.REJECTED
        UPLOADS_COMPLETED.labels(state.value).inc()
        await Upload.filter(id=upload.id).using_db(conn).update(
            state=state, asset_id=outcome.asset_id, error_code=outcome.error_code, offset=size,
            completed_at=service.now())
        if outcome.status is AssetStatus.READY:
            await quota.add_stored_bytes(conn, tenant_id, size)
    upload.state, upload.error_code = state, outcome.error_code
    upload.asset_id = outcome.asset_id  # type: ignore[attr-defined]

