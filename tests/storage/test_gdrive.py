"""GoogleDriveStorage against the local fake Drive server, with every injected fault."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from app.config import Settings
from app.storage import get_storage
from app.storage.errors import ObjectNotFoundError, RangeNotSatisfiableError, StorageUnavailableError
from app.storage.gdrive import GoogleDriveStorage, folders_of
from tests.storage.drive_env import CHUNK, FOLDER, make_drive_storage
from tests.storage.fake_drive import FakeDrive, Fault

KEY = "inputs/t1/p1/movie.mp4"


def blob(tmp_path: Path, size: int = 5 * CHUNK + 12345, name: str = "src.bin") -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


async def read_all(storage: GoogleDriveStorage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.open_range(key, start, end)])


async def test_roundtrip_put_stat_range_list_move_delete(drive_storage: GoogleDriveStorage, fake_drive: FakeDrive,
                                                         tmp_path: Path) -> None:
    path, data = blob(tmp_path)
    stat = await drive_storage.put_file(KEY, path)
    assert (stat.key, stat.size, stat.etag) == (KEY, len(data), hashlib.md5(data).hexdigest())
    assert fake_drive.calls.count("chunk") == 6  # 5 full 256 KiB chunks + the short tail
    assert "generateIds" in fake_drive.calls
    assert await read_all(drive_storage, KEY) == data
    assert await read_all(drive_storage, KEY, 1000, 300000) == data[1000:300000]
    await drive_storage.put_stream("inputs/t1/p2/other.txt", _chunks([b"hello ", b"drive"]))
    assert [s.key for s in await drive_storage.list("inputs/t1/p1/")] == [KEY]
    assert [s.key for s in await drive_storage.list("inputs/t1/")] == [KEY, "inputs/t1/p2/other.txt"]
    await drive_storage.move(KEY, "outputs/j1/final.mp4")
    assert await drive_storage.stat(KEY) is None
    assert await drive_storage.list("inputs/t1/p1/") == []
    assert [s.key for s in await drive_storage.list("outputs/j1/")] == ["outputs/j1/final.mp4"]
    assert [s.key for s in await drive_storage.list("outputs/j")] == ["outputs/j1/final.mp4"]
    moved = next(f for f in fake_drive.files.values() if f.name == "outputs/j1/final.mp4")
    assert moved.app_properties == {"d1": "outputs", "d2": "outputs/j1"}
    assert await read_all(drive_storage, "outputs/j1/final.mp4", len(data) - 10) == data[-10:]
    assert await drive_storage.delete("outputs/j1/final.mp4") is True
    assert await drive_storage.delete("outputs/j1/final.mp4") is False
    assert fake_drive.violations == []


async def _chunks(parts: list[bytes]):  # type: ignore[no-untyped-def]
    for part in parts:
        yield part


async def test_put_replaces_existing_object(drive_storage: GoogleDriveStorage, fake_drive: FakeDrive,
                                            tmp_path: Path) -> None:
    first, _ = blob(tmp_path, 1000, "a")
    second, data = blob(tmp_path, 2000, "b")
    await drive_storage.put_file(KEY, first)
    await drive_storage.put_file(KEY, second)
    assert len([f for f in fake_drive.files.values() if f.name == KEY]) == 1
    assert await read_all(drive_storage, KEY) == data


@pytest.mark.parametrize("faults", [
    [Fault("error", "chunk", 503, after_bytes=2 * CHUNK)],
    [Fault("error", "chunk", 500), Fault("error", "status", 502)],
    [Fault("error", "chunk", 429, after_bytes=CHUNK)],
    [Fault("drop", "chunk", after_bytes=CHUNK)],
    [Fault("drop", "chunk"), Fault("drop", "chunk", after_bytes=3 * CHUNK)],
    [Fault("expire", "chunk", after_bytes=3 * CHUNK)],
    [Fault("error", "initiate", 503), Fault("error", "chunk", 503, after_bytes=4 * CHUNK)],
    [Fault("error", "chunk", 400, after_bytes=CHUNK)],
], ids=["5xx-mid", "5xx-then-status-5xx", "429", "drop", "two-drops", "expired-session", "initiate-5xx",
        "other-4xx-restarts"])
async def test_upload_survives_fault(drive_storage: GoogleDriveStorage, fake_drive: FakeDrive, tmp_path: Path,
                                     faults: list[Fault]) -> None:
    path, data = blob(tmp_path)
    fake_drive.faults.extend(faults)
    await drive_storage.put_file(KEY, path)
    assert fake_drive.faults == []  # every fault fired
    assert await read_all(drive_storage, KEY) == data
    assert len(fake_drive.files) == 1
    assert fake_drive.violations == []
    if faults[0].kind != "expire" and faults[0].status != 400:
        assert fake_drive.calls.count("initiate") == 1 + sum(f.target == "initiate" for f in faults)
    else:
        assert fake_drive.calls.count("initiate") == 2  # a new session after 404 / another 4xx


async def test_upload_resumes_after_process_crash(fake_drive: FakeDrive, sa_file: Path, tmp_path: Path) -> None:
    path, data = blob(tmp_path, 8 * CHUNK)
    state_dir = tmp_path / "state"
    crashing = make_drive_storage(fake_drive, sa_file, state_dir, attempts=1)
    fake_drive.faults.extend([Fault("error", "chunk", 503, after_bytes=5 * CHUNK),
                              Fault("error", "status", 503, after_bytes=5 * CHUNK)])
    with pytest.raises(StorageUnavailableError):
        await crashing.put_file(KEY, path)
    await crashing.close()
    saved = [json.loads(p.read_text()) for p in state_dir.glob("*.json")]
    assert len(saved) == 1 and saved[0]["size"] == len(data)
    fake_drive.calls.clear()
    fresh = make_drive_storage(fake_drive, sa_file, state_dir)  # a new process: same state dir
    await fresh.put_file(KEY, path)
    assert fake_drive.calls.count("initiate") == 0
    assert fake_drive.calls.count("chunk") == 3  # resumed at 5 x 256 KiB, not from zero
    assert await read_all(fresh, KEY) == data
    assert list(state_dir.glob("*.json")) == []
    await fresh.close()


async def test_retries_exhausted_is_unavailable(drive_storage: GoogleDriveStorage, fake_drive: FakeDrive,
                                                tmp_path: Path) -> None:
    path, _ = blob(tmp_path, CHUNK)
    fake_drive.faults.extend([Fault("error", "initiate", 503) for _ in range(10)])
    with pytest.raises(StorageUnavailableError) as info:
        await drive_storage.put_file(KEY, path)
    assert info.value.code == "STORAGE_UNAVAILABLE"


async def test_ranged_download_faults_and_errors(drive_storage: GoogleDriveStorage, fake_drive: FakeDrive,
                                                 tmp_path: Path) -> None:
    path, data = blob(tmp_path, 3 * CHUNK)
    await drive_storage.put_file(KEY, path)
    fake_drive.faults.extend([Fault("error", "download", 503), Fault("error", "list", 500)])
    assert await read_all(drive_storage, KEY, CHUNK, 2 * CHUNK + 7) == data[CHUNK:2 * CHUNK + 7]
    assert fake_drive.faults == []
    with pytest.raises(RangeNotSatisfiableError):
        await read_all(drive_storage, KEY, len(data) + 5)
    with pytest.raises(ObjectNotFoundError):
        await read_all(drive_storage, "inputs/t1/p1/missing.mp4")


async def test_empty_file(drive_storage: GoogleDriveStorage, tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    stat = await drive_storage.put_file(KEY, path)
    assert stat.size == 0
    assert await read_all(drive_storage, KEY) == b""


async def test_oauth_user_credentials_and_settings(fake_drive: FakeDrive, tmp_path: Path) -> None:
    creds = tmp_path / "user.json"
    creds.write_text(json.dumps({"type": "authorized_user", "client_id": "cid", "client_secret": "cs",
                                 "refresh_token": "rt", "token_uri": f"{fake_drive.base}/token"}))
    settings = Settings(data_dir=tmp_path / "data", storage={"backend": "gdrive", "gdrive_credentials_file": creds,
                                                             "gdrive_folder_id": FOLDER,
                                                             "gdrive_api_base": fake_drive.base})
    storage = get_storage(settings)
    assert isinstance(storage, GoogleDriveStorage)
    path, data = blob(tmp_path, 1000)
    await storage.put_file(KEY, path)
    assert await read_all(storage, KEY) == data  # type: ignore[arg-type]
    assert fake_drive.calls.count("token") == 1
    await storage.close()


@pytest.mark.parametrize(("key", "expected"), [
    ("outputs/j/final.mp4", {"d1": "outputs", "d2": "outputs/j"}),
    ("inputs/t/p/a.mp4", {"d1": "inputs", "d2": "inputs/t", "d3": "inputs/t/p"}),
    ("outputs/x", {"d1": "outputs"}),
])
def test_folders_of(key: str, expected: dict[str, str]) -> None:
    assert folders_of(key) == expected
