"""Personal-data export (GDPR Art. 15 and 20): a zip of what Recap holds about one person.

``requestDataExport`` records a DataExport row and queues the worker task ``export_data``; the worker
builds ``exports/{user}/{export}.zip`` with ``account.json`` (account, memberships, projects and jobs
the person created, their assets, attestations when that model exists, audit events by or about them)
plus the uploaded files and outputs (``files/...``; a file above ``governance.export_inline_max_bytes``
is listed with a signed link instead). It is downloadable through an expiring signed link; the user
is notified by an audit event, a ``data_export.ready`` webhook of the tenant they asked from, and
``dataExport(id)`` shows the state and the link.

    export = await request_data_export(principal, settings)
    export, url = await get_data_export(principal, export.id, settings)   # url once state == "ready"
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import app.models as models
from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.downloads import sign_download
from app.errors import NotFoundError
from app.models import Asset, AuditEvent, DataExport, Job, Membership, Project, Tenant, Upload, User
from app.services import audit
from app.storage import Storage, fetch_to
from app.storage.keys import export_key, safe_extension

FORMAT_VERSION = 1
ACTIVE = ("queued", "running")


async def request_data_export(principal: Principal, settings: Settings) -> DataExport:
    """Queue an export of the caller's data (one at a time: an export in progress is returned again)."""
    async with system_tx() as conn:
        running = await DataExport.filter(user_id=principal.user_id, state__in=ACTIVE).using_db(conn).first()
        if running is not None:
            return running
        export = await DataExport.create(id=uuid4(), user_id=principal.user_id, state="queued", using_db=conn)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id,
                           action="data.export_requested", target_type="user", target_id=str(principal.user_id))
    from app.queue import enqueue_task

    await enqueue_task("export_data", str(export.id), str(principal.tenant_id), task_id=f"export:{export.id}",
                       settings=settings)
    return export


async def get_data_export(principal: Principal, export_id: UUID, settings: Settings) -> tuple[DataExport, str | None]:
    """The caller's export and, when ready and not expired, a signed link valid until it expires."""
    async with system_tx() as conn:
        export = await DataExport.filter(id=export_id, user_id=principal.user_id).using_db(conn).first()
    if export is None:
        raise NotFoundError("export not found", "id")
    return export, export_link(export, settings)


def export_link(export: DataExport, settings: Settings) -> str | None:
    now = datetime.now(UTC)
    if export.state != "ready" or not export.storage_key or export.expires_at is None or export.expires_at <= now:
        return None
    ttl = max(1, int((export.expires_at - now).total_seconds()))
    return sign_download(settings, tenant_id=export.user_id, owner=("export", export.id),  # type: ignore[attr-defined]
                         key=export.storage_key, filename="recap-data-export.zip", expires_in=ttl)


@dataclass
class _Bundle:
    document: dict[str, Any]
    files: list[tuple[str, str]] = field(default_factory=list)  # (storage key, path inside the zip)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


async def _attestations(conn: Any, user_id: UUID) -> list[dict[str, Any]]:
    """Rights attestations of the user, when the moderation workflow's model exists."""
    model = getattr(models, "Attestation", None) or getattr(models, "RightsAttestation", None)
    if model is None or "user_id" not in model._meta.fields_db_projection.values():
        return []
    return [_json(row) for row in await model.filter(user_id=user_id).using_db(conn).values()]


async def collect(conn: Any, user: User, settings: Settings) -> _Bundle:
    """Everything about ``user``: the JSON document and the stored files to include."""
    memberships = await Membership.filter(user_id=user.id).using_db(conn)
    tenants = {t.id: t.name for t in await Tenant.filter(id__in=[m.tenant_id for m in memberships])  # type: ignore[attr-defined]
               .using_db(conn)}
    projects = await Project.filter(created_by_id=user.id).using_db(conn)
    jobs = await Job.filter(created_by_id=user.id).using_db(conn)
    uploaded = await Upload.filter(user_id=user.id, asset_id__not_isnull=True).using_db(conn) \
        .values_list("asset_id", flat=True)
    assets = await Asset.filter(id__in=list(uploaded)).using_db(conn) if uploaded else []
    events = await AuditEvent.filter(actor_id=user.id).using_db(conn).values()
    events += await AuditEvent.filter(target_id=str(user.id)).exclude(actor_id=user.id).using_db(conn).values()
    bundle = _Bundle({
        "format": "recap-data-export", "version": FORMAT_VERSION, "generated_at": datetime.now(UTC).isoformat(),
        "account": {"id": str(user.id), "email": user.email, "display_name": user.display_name,
                    "created_at": user.created_at.isoformat(), "is_active": user.is_active,
                    "is_platform_admin": user.is_platform_admin},
        "memberships": [{"tenant_id": str(m.tenant_id), "tenant_name": tenants.get(m.tenant_id, ""),  # type: ignore[attr-defined]
                         "role": m.role.value, "created_at": m.created_at.isoformat()} for m in memberships],
        "projects": [{"id": str(p.id), "tenant_id": str(p.tenant_id), "name": p.name,  # type: ignore[attr-defined]
                      "description": p.description, "created_at": p.created_at.isoformat()} for p in projects],
        "jobs": [], "assets": [], "links": [],
        "attestations": await _attestations(conn, user.id),
        "audit_events": sorted((_json(e) for e in events), key=lambda e: (e["created_at"], e["id"])),
    })
    for asset in assets:
        entry = {"id": str(asset.id), "project_id": str(asset.project_id), "kind": asset.kind.value,  # type: ignore[attr-defined]
                 "filename": asset.filename, "size_bytes": asset.size_bytes, "sha256": asset.sha256,
                 "status": asset.status.value, "created_at": asset.created_at.isoformat()}
        if asset.storage_key:
            entry["file"] = _include(bundle, settings, asset.storage_key, asset.size_bytes,
                                     f"files/inputs/{asset.id}{safe_extension(asset.filename)}",
                                     tenant_id=asset.tenant_id, owner=("asset", asset.id))  # type: ignore[attr-defined]
        bundle.document["assets"].append(entry)
    for job in jobs:
        entry = {"id": str(job.id), "project_id": str(job.project_id), "tenant_id": str(job.tenant_id),  # type: ignore[attr-defined]
                 "state": job.state.value, "options": _json(job.options), "error_code": job.error_code,
                 "created_at": job.created_at.isoformat(),
                 "finished_at": job.finished_at.isoformat() if job.finished_at else None, "outputs": {}}
        for name, item in sorted((job.outputs or {}).items()):
            if isinstance(item, dict) and item.get("key"):
                entry["outputs"][name] = _include(bundle, settings, item["key"], int(item.get("size") or 0),
                                                  f"files/outputs/{job.id}/{name}", tenant_id=job.tenant_id,  # type: ignore[attr-defined]
                                                  owner=("job", job.id))
        bundle.document["jobs"].append(entry)
    return bundle


def _include(bundle: _Bundle, settings: Settings, key: str, size: int, arcname: str, *, tenant_id: UUID,
             owner: tuple[Any, UUID]) -> str:
    """The zip path of a small file, or a signed link (for as long as the export lives) for a large one."""
    if size <= settings.governance.export_inline_max_bytes:
        bundle.files.append((key, arcname))
        return arcname
    url = sign_download(settings, tenant_id=tenant_id, owner=owner, key=key,
                        expires_in=settings.governance.export_ttl_seconds)
    bundle.document["links"].append({"path": arcname, "url": url, "size_bytes": size})
    return url


def _write_zip(target: Path, document: dict[str, Any], files: list[tuple[Path, str]]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("account.json", json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True))
        for path, arcname in files:  # media is compressed already: store it
            zf.write(path, arcname, compress_type=zipfile.ZIP_STORED)


async def build_export(storage: Storage, export_id: UUID, workdir: Path, settings: Settings) -> DataExport | None:
    """Build and store the zip of ``export_id`` (the worker's task); None when the row is gone."""
    async with system_tx() as conn:
        export = await DataExport.filter(id=export_id).using_db(conn).select_for_update().first()
        if export is None or export.state not in ACTIVE:
            return export
        export.state = "running"
        await export.save(using_db=conn, update_fields=["state"])
        user = await User.filter(id=export.user_id).using_db(conn).get()  # type: ignore[attr-defined]
        bundle = await collect(conn, user, settings)
    local: list[tuple[Path, str]] = []
    for index, (key, arcname) in enumerate(bundle.files):
        if await storage.stat(key) is not None:
            local.append((await fetch_to(storage, key, workdir / f"f{index}"), arcname))
    target = workdir / "export.zip"
    await asyncio.to_thread(_write_zip, target, bundle.document, local)
    key = export_key(user.id, export.id)
    stat = await storage.put_file(key, target, move=True)
    async with system_tx() as conn:
        await DataExport.filter(id=export.id).using_db(conn).update(
            state="ready", storage_key=key, size_bytes=stat.size, finished_at=datetime.now(UTC),
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.governance.export_ttl_seconds))
        await audit.record(conn, tenant_id=None, actor_id=user.id, action="data.export_ready",
                           target_type="user", target_id=str(user.id), data={"export_id": str(export.id)})
        return await DataExport.filter(id=export.id).using_db(conn).first()


async def fail_export(export_id: UUID, code: str) -> None:
    async with system_tx() as conn:
        await DataExport.filter(id=export_id).using_db(conn).update(state="failed", error_code=code,
                                                                   finished_at=datetime.now(UTC))
