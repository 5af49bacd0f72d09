"""Fixtures for the storage tests: a running fake Drive server and Drive backends pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.gdrive import GoogleDriveStorage
from tests.storage.drive_env import make_drive_storage, write_service_account
from tests.storage.fake_drive import FakeDrive


@pytest.fixture
async def fake_drive() -> AsyncIterator[FakeDrive]:
    server = FakeDrive()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def sa_file(tmp_path: Path, fake_drive: FakeDrive) -> Path:
    return write_service_account(tmp_path / "sa.json", f"{fake_drive.base}/token")


@pytest.fixture
async def drive_storage(fake_drive: FakeDrive, sa_file: Path, tmp_path: Path) -> AsyncIterator[GoogleDriveStorage]:
    storage = make_drive_storage(fake_drive, sa_file, tmp_path / "state")
    yield storage
    await storage.close()
