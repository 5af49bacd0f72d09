"""Client side of the fake Drive: a real service-account key file and backends pointed at the server."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.storage.gdrive import GoogleDriveStorage
from app.storage.gdrive_auth import load_token_source
from app.storage.gdrive_http import DriveHttp
from app.storage.gdrive_resumable import Backoff
from tests.storage.fake_drive import FakeDrive

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


def make_drive_storage(fake_drive: FakeDrive, creds: Path, state_dir: Path, attempts: int = 6) -> GoogleDriveStorage:
    http = DriveHttp(fake_drive.base, load_token_source(creds), read_timeout=10)
    return GoogleDriveStorage(http, FOLDER, state_dir=state_dir, chunk_size=CHUNK,
                              backoff=Backoff(initial=0.005, maximum=0.05, attempts=attempts))
