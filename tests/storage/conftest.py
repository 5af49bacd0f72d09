"""Fixtures for the storage tests: a running fake Drive server and Drive backends pointed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_drive import FakeDrive

from app.storage.gdrive import GoogleDriveStorage
from app.storage.gdrive_auth import load_token_source
from app.storage.gdrive_http import DriveHttp
from app.storage.gdrive_resumable import Backoff

FOLDER = "folder-recap"
CHUNK = 256 * 1024


def write_service_account(path: Path, token_uri: str) -> Path:
    """A real service-account key file (fresh RSA key) whose token_uri is the fake server."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "recap-test", "private_key_id": "k1", "private_key": pem,
        "client_email": "recap@recap-test.iam.gserviceaccount.com", "client_id": "1", "token_uri": token_uri,
    }))
    return path


@pytest.fixture
async def fake_drive() -> AsyncIterator[FakeDrive]:
    server = FakeDrive()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def sa_file(tmp_path: Path, fake_drive: FakeDrive) -> Path:
    return write_service_account(tmp_path / "sa.json", f"{fake_drive.base}/token")


def make_drive_storage(fake_drive: FakeDrive, creds: Path, state_dir: Path, attempts: int = 6) -> GoogleDriveStorage:
    http = DriveHttp(fake_drive.base, load_token_source(creds), read_timeout=10)
    return GoogleDriveStorage(http, FOLDER, state_dir=state_dir, chunk_size=CHUNK,
                              backoff=Backoff(initial=0.005, maximum=0.05, attempts=attempts))


@pytest.fixture
async def drive_storage(fake_drive: FakeDrive, sa_file: Path, tmp_path: Path) -> AsyncIterator[GoogleDriveStorage]:
    storage = make_drive_storage(fake_drive, sa_file, tmp_path / "state")
    yield storage
    await storage.close()
