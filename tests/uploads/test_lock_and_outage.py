"""The per-upload lock (heartbeat, token-checked release) and a storage outage at completion."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.storage.gdrive import GoogleDriveStorage
from app.storage.gdrive_auth import load_token_source
from app.storage.gdrive_http import DriveHttp
from app.storage.gdrive_resumable import Backoff
from app.uploads.lock import UploadLock
from tests.storage.drive_env import write_service_account
from tests.uploads.conftest import Owner, upload_all


async def test_lock_heartbeat_outlives_ttl(redis_client: Any) -> None:
    first = UploadLock(redis_client, "u1", ttl_ms=300)
    assert await first.acquire()
    await asyncio.sleep(1.0)  # three TTLs: only the heartbeat keeps it
    second = UploadLock(redis_client, "u1", ttl_ms=300)
    assert not await second.acquire()
    await second.release()  # a non-holder's release must not free the lock
    assert await redis_client.exists(first.key)
    await first.release()
    assert await second.acquire()
    await second.release()


async def test_lock_lapses_without_holder(redis_client: Any) -> None:
    await redis_client.set("recap:upload:lock:u2", "crashed-holder", px=200)
    lock = UploadLock(redis_client, "u2", ttl_ms=200)
    assert not await lock.acquire()
    await asyncio.sleep(0.3)
    assert await lock.acquire()
    await lock.release()


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_storage_outage_keeps_upload_open(http: httpx.AsyncClient, owner: Owner, app: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}"
    creds = write_service_account(tmp_path / "sa.json", f"{dead}/token")
    unreachable = GoogleDriveStorage(DriveHttp(dead, load_token_source(creds)), "folder",
                                     state_dir=tmp_path / "state", backoff=Backoff(initial=0.001, attempts=1))
    monkeypatch.setattr(app.state, "storage", unreachable)
    body = b"# Script\n\nA beat.\n"
    resp = await upload_all(http, owner, body, kind="script", filename="s.txt")
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "STORAGE_UNAVAILABLE"
    assert resp.headers["Retry-After"]
    location = str(resp.request.url)
    head = await http.head(location, headers=owner.headers())
    assert (head.headers["Upload-Offset"], head.headers["Recap-Upload-State"]) == (str(len(body)), "receiving")
    monkeypatch.undo()
    retried = await http.patch(location, content=b"", headers=owner.headers(
        **{"Upload-Offset": str(len(body)), "Content-Type": "application/offset+octet-stream"}))
    assert retried.status_code == 204, retried.text
    await unreachable.close()
