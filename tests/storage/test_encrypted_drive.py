"""Envelope encryption around the Google Drive backend (the fake Drive server): Drive holds only ciphertext."""

from __future__ import annotations

import base64
from pathlib import Path

from app.config import StorageSettings
from app.storage.encrypted import EncryptedStorage, Keyring
from app.storage.gdrive import GoogleDriveStorage
from tests.storage.fake_drive import FakeDrive


async def test_drive_stores_ciphertext_and_ranges_read_back(drive_storage: GoogleDriveStorage,
                                                            fake_drive: FakeDrive, tmp_path: Path) -> None:
    ring = Keyring.from_settings(StorageSettings(encryption_key=base64.b64encode(b"k" * 32).decode()))
    storage = EncryptedStorage(drive_storage, ring)
    data = b"RECOGNISABLE-PLAINTEXT-" * 60_000  # ~1.3 MB: several resumable chunks on the wire
    src = tmp_path / "movie.bin"
    src.write_bytes(data)
    stat = await storage.put_file("outputs/j1/final.mp4", src)
    assert stat.size == len(data)
    assert fake_drive.calls.count("chunk") > 1  # Drive's resumable protocol carried the ciphertext
    stored = [f.data for f in fake_drive.files.values()]
    assert len(stored) == 1 and b"RECOGNISABLE" not in stored[0]
    ranged = b"".join([p async for p in storage.open_range("outputs/j1/final.mp4", 700_000, 900_001)])
    assert ranged == data[700_000:900_001]
    listed = await storage.list("outputs/j1/")
    assert [(s.key, s.size) for s in listed] == [("outputs/j1/final.mp4", len(data))]
