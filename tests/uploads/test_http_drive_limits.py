"""The Drive hook's limits: a streamed, bounded body, and Drive's reported size enforced while downloading."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.db import tenant_tx
from app.hooks import MAX_BODY
from app.models import Asset, Upload
from tests.storage.fake_drive import DriveFile, FakeDrive
from tests.uploads.conftest import Owner
from tests.uploads.test_drive_hook import drive, post_hook

__all__ = ["drive"]


@dataclass
class LyingFile(DriveFile):
    """A Drive file whose metadata reports ``reported`` as its size (None: no size, like a Google Doc)."""

    reported: str | None = None

    def meta(self) -> dict[str, Any]:
        meta = super().meta()
        if self.reported is None:
            meta.pop("size")
        else:
            meta["size"] = self.reported
        return meta


async def test_oversized_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(256):  # 16 MiB offered; the hook must stop reading after 16 KB
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    resp = await client.post("/hooks/drive", content=endless(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "BODY_TOO_LARGE"
    assert sent <= 2 * 64 * 1024, f"{sent} bytes were read before the refusal"
    declared = await client.post("/hooks/drive", content=b"{}", headers={"Content-Length": str(MAX_BODY + 1)})
    assert declared.status_code == 413


async def _uploads_of(owner: Owner) -> list[Upload]:
    async with tenant_tx(owner.tenant.id):
        return list(await Upload.filter(tenant_id=owner.tenant.id))


async def test_file_without_a_size_is_refused(client: httpx.AsyncClient, settings: Settings, owner: Owner,
                                              drive: FakeDrive, clip_bytes: bytes) -> None:
    drive.files["1NoSizeReported0"] = LyingFile("1NoSizeReported0", "doc.mp4", ["shared"], clip_bytes, reported=None)
    resp = await post_hook(client, settings, {"fileId": "1NoSizeReported0", "projectId": str(owner.project_id)})
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, "DRIVE_SIZE_UNKNOWN")
    assert "download" not in drive.calls
    assert await _uploads_of(owner) == []


@pytest.mark.parametrize("delta", [-1000, +1000])
async def test_bytes_other_than_the_reported_size_are_refused(client: httpx.AsyncClient, settings: Settings,
                                                              owner: Owner, drive: FakeDrive, clip_bytes: bytes,
                                                              delta: int) -> None:
    """Drive says N bytes and sends more (stopped at N) or fewer: no asset, the reservation is freed."""
    file_id = "1LyingAboutSize0"
    drive.files[file_id] = LyingFile(file_id, "movie.mp4", ["shared"], clip_bytes,
                                     reported=str(len(clip_bytes) + delta))
    resp = await post_hook(client, settings, {"fileId": file_id, "projectId": str(owner.project_id)})
    assert resp.status_code == 202, resp.text  # ASGI transport: the background ingest has run
    async with tenant_tx(owner.tenant.id):
        assert not await Asset.filter(id=resp.json()["assetId"]).exists()
    assert await _uploads_of(owner) == []  # nothing stays reserved against the quota
    again = await post_hook(client, settings, {"fileId": file_id, "projectId": str(owner.project_id)})
    assert again.status_code == 202  # a failed ingest may be retried at once


async def test_reported_size_over_the_upload_limit_is_refused(client: httpx.AsyncClient, settings: Settings,
                                                              owner: Owner, drive: FakeDrive, clip_bytes: bytes,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.uploads, "max_size_bytes", len(clip_bytes) - 1)
    drive.files["1TooBigForUs0000"] = DriveFile("1TooBigForUs0000", "movie.mp4", ["shared"], clip_bytes)
    resp = await post_hook(client, settings, {"fileId": "1TooBigForUs0000", "projectId": str(owner.project_id)})
    assert (resp.status_code, resp.json()["error"]["code"]) == (413, "UPLOAD_TOO_LARGE")
    assert "download" not in drive.calls

