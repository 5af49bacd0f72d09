"""Reading one Drive file by id (the Drive ingestion webhook): metadata and a resumable download.

    http = drive_http(settings)
    meta = await http.file_metadata(file_id)
    size = await download_file(http, file_id, Path("staging.part"))
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from app.storage.errors import InvalidKeyError, ObjectNotFoundError, StorageError, StorageUnavailableError
from app.storage.gdrive_auth import load_token_source
from app.storage.gdrive_http import DriveHttp
from app.storage.gdrive_resumable import RETRYABLE, Backoff

if TYPE_CHECKING:
    from app.config import Settings

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{8,200}")


def check_file_id(file_id: str) -> str:
    if not isinstance(file_id, str) or not _FILE_ID.fullmatch(file_id):
        raise InvalidKeyError("not a Drive file id")
    return file_id


def drive_http(settings: Settings) -> DriveHttp:
    """A Drive client from ``settings.storage`` credentials (whatever the storage backend is)."""
    creds = settings.storage.gdrive_credentials_file
    if creds is None:
        raise StorageUnavailableError("Google Drive is not configured (storage.gdrive_credentials_file)")
    return DriveHttp(settings.storage.gdrive_api_base, load_token_source(creds))


async def download_file(http: DriveHttp, file_id: str, dest: Path, *, backoff: Backoff | None = None,
                        max_bytes: int | None = None) -> int:
    """Download ``file_id`` to ``dest`` with ``alt=media``; a broken stream resumes with ``Range``.

    ``max_bytes``: refuse (StorageError ``DRIVE_SIZE_MISMATCH``) as soon as more would be written.
    """
    backoff = backoff or Backoff()
    check_file_id(file_id)
    failures = 0
    with dest.open("ab") as fh:
        while True:
            start = held = fh.tell()
            headers = {"Range": f"bytes={start}-"} if start else {}
            try:
                async for status, chunk in http.stream(f"/drive/v3/files/{file_id}",
                                                       params={"alt": "media", "supportsAllDrives": "true"},
                                                       headers=headers):
                    if status == 416 and start:
                        return start  # nothing after ``start``: complete
                    if status == 404:
                        raise ObjectNotFoundError(f"no Drive file {file_id}")
                    if status in RETRYABLE:
                        raise aiohttp.ClientResponseError(None, (), status=status)  # type: ignore[arg-type]
                    if status >= 300:
                        raise StorageUnavailableError(f"Drive download failed ({status})")
                    if status == 200 and start:  # the Range was ignored: this is the whole file again
                        fh.truncate(0)
                        start = held = 0
                    held += len(chunk)  # what the file holds after this write
                    if max_bytes is not None and held > max_bytes:
                        raise StorageError(f"Drive sent more than the {max_bytes} bytes it reported",
                                           code="DRIVE_SIZE_MISMATCH")
                    await asyncio.to_thread(fh.write, chunk)
                fh.flush()
                return fh.tell()
            except (TimeoutError, aiohttp.ClientError) as ex:
                failures += 1
                if failures > backoff.attempts:
                    raise StorageUnavailableError(f"Drive download of {file_id} failed") from ex
                await asyncio.sleep(backoff.delay(failures))
