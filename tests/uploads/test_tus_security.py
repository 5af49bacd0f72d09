"""Tenancy, roles, quota, locking, hostile names and expiry of uploads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from app.config import Settings
from app.db import system_tx, tenant_tx
from app.models import Asset, QuotaPolicy, Role, Upload, UploadState, UsageCounter
from app.storage.keys import validate_key
from app.uploads.cleanup import clean_expired_uploads
from app.uploads.service import now
from tests.uploads.conftest import Owner, tus_create, tus_patch, upload_all


async def test_another_tenants_upload_is_404(http: httpx.AsyncClient, owner: Owner,
                                             owner_factory: Callable[..., Awaitable[Owner]]) -> None:
    stranger = await owner_factory()
    location = (await tus_create(http, owner, length=10)).headers["Location"]
    assert (await http.head(location, headers=stranger.headers())).status_code == 404
    assert (await tus_patch(http, stranger, location, 0, b"0123456789")).status_code == 404
    assert (await http.delete(location, headers=stranger.headers())).status_code == 404
    assert (await http.head(location, headers=owner.headers())).headers["Upload-Offset"] == "0"
    # ...and nobody may upload into another tenant's project
    resp = await tus_create(http, stranger, length=10, project_id=owner.project_id)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "NOT_FOUND"


async def test_viewer_cannot_upload(http: httpx.AsyncClient, owner_factory: Callable[..., Awaitable[Owner]]) -> None:
    viewer = await owner_factory(Role.VIEWER)
    resp = await tus_create(http, viewer, length=10)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "PERMISSION_DENIED"


async def test_over_quota_refused_at_creation(http: httpx.AsyncClient, owner: Owner) -> None:
    async with tenant_tx(owner.tenant.id) as conn:
        await QuotaPolicy.create(tenant_id=owner.tenant.id, concurrent_jobs=1, processing_minutes_per_month=10,
                                 storage_bytes=1000, using_db=conn)
    resp = await tus_create(http, owner, length=1001)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert (await tus_create(http, owner, length=600)).status_code == 201
    second = await tus_create(http, owner, length=600)  # the open upload's 600 bytes are reserved
    assert second.status_code == 413 and second.json()["error"]["code"] == "QUOTA_EXCEEDED"


async def test_storage_usage_counted(http: httpx.AsyncClient, owner: Owner) -> None:
    text = b"# One\n\nA beat of the recap.\n"
    assert (await upload_all(http, owner, text, kind="script", filename="a.txt")).status_code == 204
    assert (await upload_all(http, owner, text * 2, kind="script", filename="b.txt")).status_code == 204
    async with tenant_tx(owner.tenant.id):
        counter = await UsageCounter.get(tenant_id=owner.tenant.id, period="total")
    assert counter.storage_bytes == 3 * len(text)


async def test_concurrent_patch_refused(http: httpx.AsyncClient, owner: Owner) -> None:
    body = b"x" * 4096
    location = (await tus_create(http, owner, length=len(body), kind="script", filename="c.txt")).headers["Location"]
    url = urlsplit(location)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (f"PATCH {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {owner.token}\r\n"
            f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    writer.write(head.encode() + body[:100])  # a slow client: the first PATCH stays open
    await writer.drain()
    try:
        for _ in range(200):
            second = await tus_patch(http, owner, location, 0, body)
            if second.status_code == 423:
                break
            await asyncio.sleep(0.01)  # the first request may not hold the lock yet
        assert second.status_code == 423
        assert second.json()["error"]["code"] == "UPLOAD_LOCKED"
        assert (await http.delete(location, headers=owner.headers())).status_code == 423
        writer.write(body[100:])  # the first request finishes normally
        await writer.drain()
        status_line = await reader.readline()
        assert b" 204 " in status_line
    finally:
        writer.close()
    head_resp = await http.head(location, headers=owner.headers())
    assert head_resp.headers["Upload-Offset"] == str(len(body))


HOSTILE = ["../../etc/passwd", "a\x00b.txt", "x" * 10_000 + ".txt", "evil\u202etxt.exe", "..", "/abs/path.txt",
           "C:\\Windows\\system32\\cmd.exe", "  .hidden  ", "\u200b\u200b", "名前\x07.txt"]


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_names_stored_safely(http: httpx.AsyncClient, owner: Owner, settings: Settings,
                                           name: str) -> None:
    resp = await upload_all(http, owner, b"# Safe\n\nText.\n", kind="script", filename=name)
    assert resp.status_code == 204, resp.text
    async with tenant_tx(owner.tenant.id):
        asset = await Asset.get(id=resp.headers["Recap-Asset-Id"])
    assert validate_key(asset.storage_key).startswith(f"inputs/{owner.tenant.id}/{owner.project_id}/{asset.id}")
    stored = settings.storage_root / asset.storage_key
    assert stored.resolve().is_relative_to(settings.storage_root.resolve()) and stored.is_file()
    assert len(asset.filename.encode()) <= 255 and asset.filename
    assert not any(ch in asset.filename for ch in "/\\\x00\u202e\u200b\x07")
    assert not asset.filename.startswith(".")


async def test_expired_uploads_refused_and_cleaned(http: httpx.AsyncClient, owner: Owner,
                                                   settings: Settings) -> None:
    location = (await tus_create(http, owner, length=10)).headers["Location"]
    await tus_patch(http, owner, location, 0, b"01234")
    upload_id = location.rsplit("/", 1)[1]
    part = settings.data_dir / "uploads" / f"{upload_id}.part"
    async with system_tx():
        await Upload.filter(id=upload_id).update(expires_at=now() - timedelta(seconds=1))
    resp = await tus_patch(http, owner, location, 5, b"56789")
    assert resp.status_code == 410 and resp.json()["error"]["code"] == "UPLOAD_EXPIRED"
    assert (await http.head(location, headers=owner.headers())).status_code == 410
    report = await clean_expired_uploads(settings)
    assert report.expired >= 1 and not part.exists()
    async with system_tx():
        assert (await Upload.get(id=upload_id)).state == UploadState.EXPIRED
    assert (await clean_expired_uploads(settings)).expired == 0  # idempotent
