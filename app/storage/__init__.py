"""Object storage behind one async interface: local folder (default) or Google Drive.

Keys follow the layout in :mod:`app.storage.keys` (``inputs/{tenant}/{project}/...``,
``intermediate/{job}/...``, ``outputs/{job}/...``); backends refuse any other key.

    storage = get_storage(settings)
    await storage.put_file(output_key(job_id, "final.mp4"), Path("final.mp4"))
    async for chunk in storage.open_range(key, 0, 1024): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from app.storage.errors import (
    InvalidKeyError,
    ObjectNotFoundError,
    RangeNotSatisfiableError,
    StorageError,
    StorageUnavailableError,
)

if TYPE_CHECKING:
    from app.config import Settings


@dataclass(frozen=True, slots=True)
class StatResult:
    """What a backend knows about one stored object."""

    key: str
    size: int
    modified: datetime
    etag: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "modified": self.modified.isoformat(), "etag": self.etag}


@runtime_checkable
class Storage(Protocol):
    """Async object storage. ``end`` offsets are exclusive (Python slices), ``None`` = to the end."""

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> StatResult:
        """Store the bytes of ``chunks`` under ``key`` atomically (replaces an existing object)."""
        ...

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> StatResult:
        """Store a local file under ``key``; ``move=True`` lets the backend consume (rename) the file."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Yield the bytes ``[start, end)`` of ``key``; ObjectNotFoundError / RangeNotSatisfiableError."""
        ...

    async def stat(self, key: str) -> StatResult | None: ...

    async def delete(self, key: str) -> bool:
        """Delete ``key``; False when it did not exist."""
        ...

    async def list(self, prefix: str) -> list[StatResult]:
        """Objects whose key starts with ``prefix``, sorted by key."""
        ...

    async def move(self, src: str, dst: str) -> None: ...

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` on this machine (local backend), else None: use :func:`fetch_to`."""
        ...

    async def close(self) -> None: ...


async def fetch_to(storage: Storage, key: str, dest: Path) -> Path:
    """A local file with the content of ``key``: the backend's own path when it has one, else a download."""
    local = storage.local_path(key)
    if local is not None and local.exists():
        return local
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with tmp.open("wb") as fh:
        async for chunk in storage.open_range(key):
            fh.write(chunk)
    tmp.replace(dest)
    return dest


async def delete_prefix(storage: Storage, prefix: str) -> int:
    """Delete every object under ``prefix`` (a job's or project's files); returns how many went."""
    count = 0
    for item in await storage.list(prefix):
        count += await storage.delete(item.key)
    return count


def get_storage(settings: Settings) -> Storage:
    """The backend selected by ``settings.storage.backend``, encrypted when ``storage.encryption_key`` is set."""
    backend: Storage
    if settings.storage.backend == "gdrive":
        from app.storage.gdrive import GoogleDriveStorage

        backend = GoogleDriveStorage.from_settings(settings)
    else:
        from app.storage.local import LocalStorage

        backend = LocalStorage(settings.storage_root)
    if settings.storage.encryption_key:
        from app.storage.encrypted import EncryptedStorage, Keyring

        return EncryptedStorage(backend, Keyring.from_settings(settings.storage))
    return backend


__all__ = [
    "InvalidKeyError", "ObjectNotFoundError", "RangeNotSatisfiableError", "StatResult", "Storage", "StorageError",
    "StorageUnavailableError", "delete_prefix", "fetch_to", "get_storage",
]
