"""Local-folder storage: atomic writes (temporary name, fsync, rename, fsync of the folder).

Blocking file work runs in threads so the event loop never waits on the disk.

    storage = LocalStorage(Path("/srv/recap/storage"))
    await storage.put_stream("outputs/<job>/final.mp4", chunks)
    path = storage.local_path("outputs/<job>/final.mp4")
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from app.storage import StatResult
from app.storage.errors import InvalidKeyError, ObjectNotFoundError, RangeNotSatisfiableError
from app.storage.keys import validate_key, validate_prefix

READ_CHUNK = 1024 * 1024
_TMP_PREFIX = ".tmp-"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage:
    """Objects are files below ``root``; keys map one to one onto relative paths."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # Defence in depth: a symlink planted below root must not lead outside it.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKeyError("storage key resolves outside the storage root")
        return path

    def _tmp_for(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}")

    def _commit(self, tmp: Path, path: Path) -> StatResult:
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return self._stat_path(path)

    def _stat_path(self, path: Path) -> StatResult:
        st = path.stat()
        return StatResult(str(path.relative_to(self.root)), st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> StatResult:
        path = self._path(key)
        tmp = await asyncio.to_thread(self._tmp_for, path)
        fh = await asyncio.to_thread(tmp.open, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(fh.write, chunk)
            await asyncio.to_thread(fh.flush)
            await asyncio.to_thread(os.fsync, fh.fileno())
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise
        fh.close()
        return await asyncio.to_thread(self._commit, tmp, path)

    def _put_file_sync(self, path: Path, src: Path, move: bool) -> StatResult:
        tmp = self._tmp_for(path)
        try:
            if move and os.stat(src).st_dev == os.stat(path.parent).st_dev:
                os.replace(src, tmp)
            else:
                shutil.copyfile(src, tmp)
                if move:
                    src.unlink()
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._commit(tmp, path)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> StatResult:
        target = self._path(key)
        if not path.is_file():
            raise ObjectNotFoundError(f"no such local file: {path.name}")
        return await asyncio.to_thread(self._put_file_sync, target, path, move)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            fh = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as ex:
            raise ObjectNotFoundError(f"no object {key}") from ex
        try:
            size = os.fstat(fh.fileno()).st_size
            stop = size if end is None else min(end, size)
            if start < 0 or (start >= size and size > 0) or stop < start:
                raise RangeNotSatisfiableError(f"range {start}-{end} outside 0-{size}")
            await asyncio.to_thread(fh.seek, start)
            remaining = stop - start
            while remaining > 0:
                data = await asyncio.to_thread(fh.read, min(READ_CHUNK, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            fh.close()

    async def stat(self, key: str) -> StatResult | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(self._stat_path, path)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        with contextlib.suppress(OSError):  # prune now-empty folders; a concurrent writer may refill them
            await asyncio.to_thread(self._prune, path.parent)
        return True

    def _prune(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root) and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def _list_sync(self, prefix: str) -> list[StatResult]:
        base = self.root / prefix
        folder = base if prefix.endswith("/") else base.parent
        if not folder.is_dir():
            return []
        found = []
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                if name.startswith(_TMP_PREFIX):
                    continue
                full = Path(dirpath) / name
                rel = str(full.relative_to(self.root))
                if rel.startswith(prefix):
                    found.append(self._stat_path(full))
        return sorted(found, key=lambda s: s.key)

    async def list(self, prefix: str) -> list[StatResult]:
        return await asyncio.to_thread(self._list_sync, validate_prefix(prefix))

    async def move(self, src: str, dst: str) -> None:
        source, target = self._path(src), self._path(dst)
        if not source.exists():
            raise ObjectNotFoundError(f"no object {src}")

        def _move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            _fsync_dir(target.parent)

        await asyncio.to_thread(_move)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def close(self) -> None:
        return None
