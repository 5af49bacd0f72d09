"""Drive's resumable-upload protocol (aiogoogle sends a file in one request; gigabytes need this).

1. ``generateIds`` gives the file its id up front, so a re-created session makes the same file
   (Drive answers 409 for a second create: the upload already finished).
2. ``POST /upload/drive/v3/files?uploadType=resumable`` opens a session; its URI (``Location``) is
   persisted to a small JSON file, so an upload resumes after a crash of this process.
3. Chunks (multiples of 256 KiB, the last one shorter) go as ``PUT`` with ``Content-Range``; Drive
   answers 308 with ``Range: bytes=0-N`` until the final 200/201.
4. Failures: connection errors, 408, 429 and 5xx -> back off exponentially, ask the status with
   ``Content-Range: bytes */SIZE`` and resume from the committed offset; 404/410 (session expired)
   or another 4xx -> start a new session (bounded number of restarts).

    uploader = ResumableUploader(http, state_dir=Path("state"), chunk_size=8 << 20)
    meta = await uploader.upload(Path("movie.mp4"), name=key, parents=[folder_id], content_type="video/mp4")
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from app.storage.errors import StorageError, StorageUnavailableError
from app.storage.gdrive_http import DriveHttp, HttpResult

CHUNK_UNIT = 256 * 1024
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
FILE_FIELDS = "id,name,size,modifiedTime,md5Checksum"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter; ``attempts`` failures in a row give up."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 32.0
    attempts: int = 8

    def delay(self, failures: int) -> float:
        return random.uniform(0, min(self.maximum, self.initial * self.factor ** (failures - 1)))


@dataclass(frozen=True)
class SessionState:
    """What survives a crash: enough to ask Drive where the upload stands."""

    session_uri: str
    file_id: str
    name: str
    size: int
    source_mtime_ns: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionState:
        return cls(str(data["session_uri"]), str(data["file_id"]), str(data["name"]), int(data["size"]),
                   int(data["source_mtime_ns"]))


class SessionExpiredError(StorageError):
    code = "DRIVE_SESSION_EXPIRED"


def parse_range_end(header: str | None) -> int:
    """The next offset from a 308's ``Range: bytes=0-N`` header (no header: nothing stored yet)."""
    if not header:
        return 0
    _unit, _, span = header.partition("=")
    return int(span.rpartition("-")[2]) + 1


class ResumableUploader:
    """Uploads one local file with Drive's resumable protocol (see the module docstring)."""

    def __init__(self, http: DriveHttp, *, state_dir: Path, chunk_size: int = 8 * 1024 * 1024,
                 backoff: Backoff | None = None, max_restarts: int = 3) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        self.http = http
        self.state_dir = state_dir
        self.chunk_size = chunk_size
        self.backoff = backoff or Backoff()
        self.max_restarts = max_restarts

    def _state_path(self, name: str) -> Path:
        return self.state_dir / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.json"

    def _load_state(self, name: str, path: Path) -> SessionState | None:
        state_path = self._state_path(name)
        try:
            state = SessionState.from_json(json.loads(state_path.read_text()))
        except (OSError, ValueError, KeyError):
            return None
        st = path.stat()
        if (state.name, state.size, state.source_mtime_ns) != (name, st.st_size, st.st_mtime_ns):
            state_path.unlink(missing_ok=True)  # the source changed: that session is useless
            return None
        return state

    def _save_state(self, state: SessionState) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_path(state.name).with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json()))
        tmp.replace(self._state_path(state.name))

    async def upload(self, path: Path, *, name: str, parents: list[str], content_type: str,
                     file_id: str | None = None, app_properties: dict[str, str] | None = None) -> dict[str, Any]:
        """Upload ``path`` as a Drive file called ``name``; returns the file's metadata."""
        state = self._load_state(name, path)
        restarts = 0
        while True:
            resumed = state is not None
            if state is None:
                opened = await self._initiate(path, name, parents, content_type, file_id, app_properties or {})
                if isinstance(opened, dict):
                    return opened
                state = opened
            file_id = state.file_id
            try:
                result = await self._transfer(state, path, resumed=resumed)
            except SessionExpiredError:
                restarts += 1
                self._state_path(name).unlink(missing_ok=True)
                state = None
                if restarts > self.max_restarts:
                    raise StorageUnavailableError(f"Drive upload of {name} restarted {restarts - 1} times") from None
                continue
            self._state_path(name).unlink(missing_ok=True)
            return result

    async def _initiate(self, path: Path, name: str, parents: list[str], content_type: str,
                        file_id: str | None, app_properties: dict[str, str]) -> SessionState | dict[str, Any]:
        size = path.stat().st_size
        file_id = file_id or await self.http.generate_id()
        body = {"id": file_id, "name": name, "parents": parents, "appProperties": app_properties}
        headers = {"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": content_type,
                   "Content-Type": "application/json; charset=UTF-8"}
        params = {"uploadType": "resumable", "supportsAllDrives": "true", "fields": FILE_FIELDS}
        result = await self._with_retries(lambda: self.http.call("POST", "/upload/drive/v3/files", params=params,
                                                                 json_body=body, headers=headers))
        if result.status == 409:  # this id exists: an earlier session of ours already completed
            return await self.http.file_metadata(file_id)
        if result.status != 200 or "Location" not in result.headers:
            raise StorageUnavailableError(f"Drive refused the upload session ({result.status})")
        state = SessionState(result.headers["Location"], file_id, name, size, path.stat().st_mtime_ns)
        await asyncio.to_thread(self._save_state, state)
        return state

    async def _with_retries(self, send: Any) -> HttpResult:
        failures = 0
        while True:
            try:
                result: HttpResult = await send()
            except (TimeoutError, aiohttp.ClientError) as ex:
                failures = await self._wait(failures, ex)
                continue
            if result.status in RETRYABLE:
                failures = await self._wait(failures, None)
                continue
            return result

    async def _wait(self, failures: int, cause: BaseException | None) -> int:
        failures += 1
        if failures > self.backoff.attempts:
            raise StorageUnavailableError(f"Drive unavailable after {failures - 1} retries") from cause
        await asyncio.sleep(self.backoff.delay(failures))
        return failures

    async def _transfer(self, state: SessionState, path: Path, *, resumed: bool) -> dict[str, Any]:
        offset: int | None = None if resumed else 0
        failures = 0
        with path.open("rb") as fh:
            while True:
                try:
                    result = await (self._status(state) if offset is None else self._chunk(state, fh, offset))
                except (TimeoutError, aiohttp.ClientError) as ex:
                    failures, offset = await self._wait(failures, ex), None
                    continue
                if result.status in (200, 201):
                    return result.json()
                if result.status == 308:
                    offset, failures = parse_range_end(result.headers.get("Range")), 0
                elif result.status in RETRYABLE:
                    failures, offset = await self._wait(failures, None), None
                else:  # 404/410: session expired; any other 4xx: this session cannot go on
                    raise SessionExpiredError(f"Drive upload session answered {result.status}")

    async def _status(self, state: SessionState) -> HttpResult:
        headers = {"Content-Range": f"bytes */{state.size}", "Content-Length": "0"}
        return await self.http.call("PUT", state.session_uri, headers=headers, data=b"")

    async def _chunk(self, state: SessionState, fh: Any, offset: int) -> HttpResult:
        await asyncio.to_thread(fh.seek, offset)
        data: bytes = await asyncio.to_thread(fh.read, self.chunk_size)
        end = f"{offset}-{offset + len(data) - 1}" if data else "*"
        content_range = f"bytes {end}/{state.size}"
        return await self.http.call("PUT", state.session_uri, headers={"Content-Range": content_range}, data=data)
