"""Google Drive storage: every object is one file in the configured folder, named by its key.

Drive has no paths, so the key itself is the file name (``inputs/<t>/<p>/<a>.mp4``) and each file
carries its folders as ``appProperties`` (``d1=inputs``, ``d2=inputs/<t>``, ``d3=inputs/<t>/<p>``): a
prefix listing is an exact ``appProperties has {key, value}`` query on the prefix's folder (Drive's
``name contains`` tokenises names, so it is no prefix search on paths), filtered exactly.
Uploads use Drive's resumable protocol (:mod:`app.storage.gdrive_resumable`); reads use
``alt=media`` with a ``Range`` header and resume from the last byte on a broken stream.

    storage = GoogleDriveStorage.from_settings(settings)
    await storage.put_file("outputs/<job>/final.mp4", Path("final.mp4"))
    async for chunk in storage.open_range("outputs/<job>/final.mp4", 0, 1 << 20): ...
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from app.storage import StatResult
from app.storage.errors import ObjectNotFoundError, RangeNotSatisfiableError, StorageUnavailableError
from app.storage.gdrive_auth import TokenSource, load_token_source
from app.storage.gdrive_http import DriveHttp
from app.storage.gdrive_resumable import RETRYABLE, Backoff, ResumableUploader
from app.storage.keys import validate_key, validate_prefix

if TYPE_CHECKING:
    from app.config import Settings

LIST_FIELDS = "nextPageToken,files(id,name,size,modifiedTime,md5Checksum)"


def folders_of(key: str) -> dict[str, str]:
    """``appProperties`` naming every folder above ``key``: ``{"d1": "inputs", "d2": "inputs/t", ...}``."""
    parts = key.split("/")
    return {f"d{i}": "/".join(parts[:i]) for i in range(1, len(parts))}


def _stat(meta: dict[str, Any]) -> StatResult:
    modified = datetime.fromisoformat(str(meta.get("modifiedTime", "1970-01-01T00:00:00Z")).replace("Z", "+00:00"))
    return StatResult(str(meta["name"]), int(meta.get("size", 0)), modified.astimezone(UTC),
                      meta.get("md5Checksum"))


class GoogleDriveStorage:
    """Objects are Drive files below ``folder_id`` (see the module docstring)."""

    def __init__(self, http: DriveHttp, folder_id: str, *, state_dir: Path, chunk_size: int = 8 * 1024 * 1024,
                 backoff: Backoff | None = None) -> None:
        self.http = http
        self.folder_id = folder_id
        self.backoff = backoff or Backoff()
        self.uploader = ResumableUploader(http, state_dir=state_dir, chunk_size=chunk_size, backoff=self.backoff)
        self.spool_dir = state_dir / "spool"

    @classmethod
    def from_settings(cls, settings: Settings) -> GoogleDriveStorage:
        cfg = settings.storage
        if cfg.gdrive_credentials_file is None or not cfg.gdrive_folder_id:
            raise ValueError("the gdrive backend needs storage.gdrive_credentials_file and storage.gdrive_folder_id")
        tokens: TokenSource = load_token_source(cfg.gdrive_credentials_file)
        chunk = max(256 * 1024, cfg.gdrive_chunk_size // (256 * 1024) * (256 * 1024))
        return cls(DriveHttp(cfg.gdrive_api_base, tokens), cfg.gdrive_folder_id,
                   state_dir=settings.data_dir / "gdrive-sessions", chunk_size=chunk)

    async def _query(self, q: str) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = []
        page: str | None = None
        while True:
            params = {"q": f"'{self.folder_id}' in parents and trashed = false and {q}", "fields": LIST_FIELDS,
                      "pageSize": "1000", "orderBy": "modifiedTime desc", "supportsAllDrives": "true",
                      "includeItemsFromAllDrives": "true"}
            if page:
                params["pageToken"] = page
            result = await self._retry(lambda p=params: self.http.call("GET", "/drive/v3/files", params=p))  # type: ignore[misc]
            if result.status != 200:
                raise StorageUnavailableError(f"Drive list failed ({result.status})")
            data = result.json()
            files.extend(data.get("files", []))
            page = data.get("nextPageToken")
            if not page:
                return files

    async def _retry(self, send: Any) -> Any:
        return await self.uploader._with_retries(send)

    async def _find(self, key: str) -> list[dict[str, Any]]:
        # Keys are validated to [A-Za-z0-9._/-]: nothing to escape inside the quotes.
        return await self._query(f"name = '{validate_key(key)}'")

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> StatResult:
        validate_key(key)
        if not path.is_file():
            raise ObjectNotFoundError(f"no such local file: {path.name}")
        previous = await self._find(key)
        meta = await self.uploader.upload(path, name=key, parents=[self.folder_id],
                                          content_type="application/octet-stream", app_properties=folders_of(key))
        for old in previous:  # replace semantics: the new file is complete before the old goes
            if old["id"] != meta.get("id"):
                await self._delete_id(old["id"])
        if move:
            path.unlink(missing_ok=True)
        if "modifiedTime" not in meta or "size" not in meta:
            meta = await self.http.file_metadata(str(meta["id"]))
        return _stat(meta)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> StatResult:
        # Drive needs the total size for a clean resumable session: spool to disk first (never to memory).
        validate_key(key)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.spool_dir)
        spool = Path(name)
        try:
            with open(fd, "wb") as fh:
                async for chunk in chunks:
                    await asyncio.to_thread(fh.write, chunk)
            return await self.put_file(key, spool, move=True)
        finally:
            spool.unlink(missing_ok=True)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        found = await self._find(key)
        if not found:
            raise ObjectNotFoundError(f"no object {key}")
        meta = found[0]
        size = int(meta.get("size", 0))
        stop = size if end is None else min(end, size)
        if start < 0 or (start >= size and size > 0) or stop < start:
            raise RangeNotSatisfiableError(f"range {start}-{end} outside 0-{size}")
        position, failures = start, 0
        while position < stop:
            try:
                async for chunk in self._ranged(meta["id"], position, stop):
                    position += len(chunk)
                    failures = 0
                    yield chunk
            except (TimeoutError, aiohttp.ClientError, _Retryable) as ex:
                failures = await self.uploader._wait(failures, ex)

    async def _ranged(self, file_id: str, start: int, stop: int) -> AsyncIterator[bytes]:
        params = {"alt": "media", "supportsAllDrives": "true"}
        headers = {"Range": f"bytes={start}-{stop - 1}"}
        async for status, chunk in self.http.stream(f"/drive/v3/files/{file_id}", params=params, headers=headers):
            if status in RETRYABLE:
                raise _Retryable(status)
            if status == 404:
                raise ObjectNotFoundError(f"Drive file {file_id} is gone")
            if status == 416:
                raise RangeNotSatisfiableError(f"range {start}-{stop} not satisfiable")
            if status >= 300:
                raise StorageUnavailableError(f"Drive download failed ({status})")
            yield chunk

    async def stat(self, key: str) -> StatResult | None:
        found = await self._find(key)
        return _stat(found[0]) if found else None

    async def _delete_id(self, file_id: str) -> bool:
        result = await self._retry(lambda: self.http.call("DELETE", f"/drive/v3/files/{file_id}",
                                                          params={"supportsAllDrives": "true"}))
        if result.status == 404:
            return False
        if result.status not in (200, 204):
            raise StorageUnavailableError(f"Drive delete failed ({result.status})")
        return True

    async def delete(self, key: str) -> bool:
        deleted = False
        for meta in await self._find(key):
            deleted = await self._delete_id(meta["id"]) or deleted
        return deleted

    async def list(self, prefix: str) -> list[StatResult]:
        validate_prefix(prefix)
        folder = prefix[:-1] if prefix.endswith("/") else prefix.rpartition("/")[0] or prefix
        files = await self._query(f"appProperties has {{ key='d{folder.count('/') + 1}' and value='{folder}' }}")
        newest: dict[str, StatResult] = {}
        for meta in files:
            stat = _stat(meta)
            if stat.key.startswith(prefix) and stat.key not in newest:
                newest[stat.key] = stat
        return sorted(newest.values(), key=lambda s: s.key)

    async def move(self, src: str, dst: str) -> None:
        found = await self._find(src)
        if not found:
            raise ObjectNotFoundError(f"no object {src}")
        for old in await self._find(dst):
            await self._delete_id(old["id"])
        file_id = found[0]["id"]
        result = await self._retry(lambda: self.http.call("PATCH", f"/drive/v3/files/{file_id}",
                                                          params={"supportsAllDrives": "true"},
                                                          json_body=self._rename_body(src, dst),
                                                          headers={"Content-Type": "application/json"}))
        if result.status != 200:
            raise StorageUnavailableError(f"Drive rename failed ({result.status})")

    @staticmethod
    def _rename_body(src: str, dst: str) -> dict[str, Any]:
        props: dict[str, str | None] = dict.fromkeys(folders_of(src))  # null removes a property
        props.update(folders_of(validate_key(dst)))
        return {"name": dst, "appProperties": props}

    def local_path(self, key: str) -> Path | None:
        return None

    async def close(self) -> None:
        await self.http.close()


class _Retryable(Exception):
    """A 5xx/429 before the first byte of a ranged read: retried with backoff."""
