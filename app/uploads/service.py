"""Upload resources: creation (project, role, size and quota checks), progress, termination.

Every upload belongs to the caller's tenant and one of its projects; another tenant's upload or
project is "not found". Partial data lives in a staging folder (``<data_dir>/uploads``), never
under a user-chosen name; the Asset and its storage key are fixed at creation.

    upload = await create_upload(principal, settings, metadata={"filename": "m.mp4", "projectId": pid}, length=n)
    upload = await get_upload(principal, upload.id)
    await save_progress(upload, new_offset, settings)
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.config import Settings
from app.db import tenant_tx
from app.errors import NotFoundError, QuotaExceededError, ValidationError
from app.models import AssetKind, Project, Role, Upload, UploadState
from app.services import quota
from app.storage.keys import input_key, safe_extension
from app.uploads.names import sanitize_filename

OPEN_STATES = (UploadState.CREATED, UploadState.RECEIVING)
#: Whole-file sha256 kept per upload while its PATCHes arrive in order in this process
#: (saves re-reading gigabytes at completion); recomputed from disk when absent.
_hashers: dict[UUID, tuple[int, Any]] = {}


class UploadTooLargeError(QuotaExceededError):
    code = "UPLOAD_TOO_LARGE"


def tenant_of(upload: Upload) -> UUID:
    return upload.tenant_id  # type: ignore[attr-defined,no-any-return]


def project_of(upload: Upload) -> UUID:
    return upload.project_id  # type: ignore[attr-defined,no-any-return]


def asset_of(upload: Upload) -> UUID | None:
    return upload.asset_id  # type: ignore[attr-defined,no-any-return]


def staging_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def part_path(settings: Settings, upload_id: UUID) -> Path:
    return staging_dir(settings) / f"{upload_id}.part"


def now() -> datetime:
    return datetime.now(UTC)


def _kind(value: str | None) -> AssetKind:
    try:
        return AssetKind(value or AssetKind.SOURCE_VIDEO.value)
    except ValueError:
        raise ValidationError(f"kind must be one of {', '.join(k.value for k in AssetKind)}", "kind") from None


def _project_id(value: str | None) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationError("projectId metadata must be a project id", "projectId") from None


async def _check_quota(conn: Any, tenant_id: UUID, length: int, settings: Settings,
                       exclude: UUID | None = None) -> None:
    """Stored bytes + bytes reserved by open uploads + ``length`` must fit the storage quota."""
    # Serialise quota decisions per tenant (the lock every storage check takes: uploads, delivery, deletion)
    # so parallel creations cannot each see the same headroom.
    await quota.lock_tenant_quota(conn, tenant_id)
    query = Upload.filter(tenant_id=tenant_id, state__in=list(OPEN_STATES), expires_at__gt=now(),
                          length__not_isnull=True).using_db(conn)
    if exclude is not None:
        query = query.exclude(id=exclude)
    reserved = sum(u.length or 0 for u in await query)
    await quota.ensure_storage_fits(conn, tenant_id, length, reserved=reserved, defaults=settings.quota,
                                    field="uploadLength")


def check_size(length: int, settings: Settings) -> None:
    if length > settings.uploads.max_size_bytes:
        raise UploadTooLargeError(f"uploads are limited to {settings.uploads.max_size_bytes} bytes", "uploadLength")


async def create_upload(principal: Principal, settings: Settings, *, metadata: dict[str, str | None],
                        length: int | None, raw_metadata: str | None = None) -> Upload:
    """Create an upload of ``length`` bytes (None: deferred) into ``metadata['projectId']``.

    Raises:
        PermissionDeniedError (viewers), ValidationError (bad kind/projectId), NotFoundError (project),
        UploadTooLargeError (over the size limit), QuotaExceededError (storage quota).
    """
    principal.require(Role.EDITOR)
    return await create_upload_for(principal.tenant_id, principal.user_id, settings, metadata=metadata,
                                   length=length, raw_metadata=raw_metadata)


async def create_upload_for(tenant_id: UUID, user_id: UUID | None, settings: Settings, *,
                            metadata: dict[str, str | None], length: int | None,
                            raw_metadata: str | None = None) -> Upload:
    """:func:`create_upload` without the role check (the Drive webhook acts for the platform).

    ``raw_metadata`` is the client's ``Upload-Metadata`` header, echoed on HEAD as tus requires.
    """
    kind = _kind(metadata.get("kind"))
    project_id = _project_id(metadata.get("projectId"))
    filename = sanitize_filename(metadata.get("filename") or metadata.get("name"))
    if length is not None:
        check_size(length, settings)
    upload_id, asset_id = uuid.uuid4(), uuid.uuid4()
    async with tenant_tx(tenant_id) as conn:
        if not await Project.filter(id=project_id, tenant_id=tenant_id).using_db(conn).exists():
            raise NotFoundError("project not found", "projectId")
        if length is not None:
            await _check_quota(conn, tenant_id, length, settings)
        upload = await Upload.create(
            id=upload_id, tenant_id=tenant_id, project_id=project_id, user_id=user_id, kind=kind,
            filename=filename, length=length,
            storage_key=input_key(tenant_id, project_id, asset_id, safe_extension(filename)),
            metadata={"asset_id": str(asset_id), "tus": raw_metadata or "",
                      "client": {k: (v or "")[:200] for k, v in metadata.items() if k not in ("filename", "name")}},
            expires_at=now() + timedelta(seconds=settings.uploads.expiry_seconds), using_db=conn)
    await asyncio.to_thread(_touch, part_path(settings, upload_id))
    return upload


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)


def parse_upload_id(upload_id: str | UUID) -> UUID:
    try:
        return UUID(str(upload_id))
    except ValueError:
        raise NotFoundError("upload not found") from None


async def get_upload(principal: Principal, upload_id: str | UUID) -> Upload:
    """The caller's tenant's upload, or NotFoundError (bad id, another tenant's, terminated)."""
    uid = parse_upload_id(upload_id)
    async with tenant_tx(principal.tenant_id) as conn:
        upload = await Upload.filter(id=uid, tenant_id=principal.tenant_id).using_db(conn).first()
    if upload is None:
        raise NotFoundError("upload not found")
    return upload


def is_expired(upload: Upload) -> bool:
    return upload.state == UploadState.EXPIRED or (upload.state in OPEN_STATES and upload.expires_at <= now())


def committed_offset(upload: Upload, settings: Settings) -> int:
    """The offset to report: the row's, unless a crash left the part file shorter."""
    if upload.state not in OPEN_STATES:
        return int(upload.offset)
    try:
        size = part_path(settings, upload.id).stat().st_size
    except FileNotFoundError:
        size = 0
    return min(int(upload.offset), size)


async def set_length(upload: Upload, length: int, settings: Settings) -> None:
    """Fix a deferred ``Upload-Length`` (once), with the size and quota checks of creation."""
    check_size(length, settings)
    if length < upload.offset:
        raise ValidationError("Upload-Length is below the bytes already received", "uploadLength")
    async with tenant_tx(tenant_of(upload)) as conn:
        await _check_quota(conn, tenant_of(upload), length, settings, exclude=upload.id)
        await Upload.filter(id=upload.id).using_db(conn).update(length=length)
    upload.length = length


async def save_progress(upload: Upload, offset: int, settings: Settings) -> None:
    """Record the committed offset; activity pushes the expiry forward."""
    upload.offset = offset
    upload.state = UploadState.RECEIVING
    upload.expires_at = now() + timedelta(seconds=settings.uploads.expiry_seconds)
    async with tenant_tx(tenant_of(upload)) as conn:
        await Upload.filter(id=upload.id).using_db(conn).update(offset=offset, state=UploadState.RECEIVING,
                                                               expires_at=upload.expires_at)


def hasher_at(upload_id: UUID, offset: int) -> Any:
    """A copy of the running whole-file hash when it stands at ``offset``, else None."""
    held = _hashers.get(upload_id)
    if held is None or held[0] != offset:
        return None
    return held[1].copy()


def keep_hasher(upload_id: UUID, offset: int, hasher: Any) -> None:
    if hasher is not None:
        _hashers[upload_id] = (offset, hasher)


def drop_hasher(upload_id: UUID) -> Any:
    held = _hashers.pop(upload_id, None)
    return None if held is None else held[1]


async def terminate_upload(upload: Upload, settings: Settings) -> None:
    """tus termination: the row and the partial data go (a finished upload's Asset stays)."""
    async with tenant_tx(tenant_of(upload)) as conn:
        await Upload.filter(id=upload.id).using_db(conn).delete()
    drop_hasher(upload.id)
    await asyncio.to_thread(part_path(settings, upload.id).unlink, True)


async def prepare_upload(principal: Principal, settings: Settings, *, project_id: UUID, filename: str,
                         kind: AssetKind, size: int | None) -> dict[str, str]:
    """What a client needs to start a tus upload: the checks of creation, run early, and the metadata to send.

    Raises the errors of :func:`create_upload` (nothing is reserved yet: the tus POST does that).
    """
    principal.require(Role.EDITOR)
    if size is not None:
        if size < 0:
            raise ValidationError("size must be >= 0", "size")
        check_size(size, settings)
    async with tenant_tx(principal.tenant_id) as conn:
        if not await Project.filter(id=project_id, tenant_id=principal.tenant_id).using_db(conn).exists():
            raise NotFoundError("project not found", "projectId")
        if size is not None:
            await quota.ensure_storage_fits(conn, principal.tenant_id, size, defaults=settings.quota, field="size")
    return {"filename": sanitize_filename(filename), "projectId": str(project_id), "kind": kind.value}
