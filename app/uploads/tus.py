"""The tus 1.0.0 protocol engine: headers, metadata, checksums and the streaming append.

HTTP-free where it can be: routes.py turns :class:`TusError` into responses and calls
:func:`append_stream` with the request body. Extensions: creation, creation-defer-length,
checksum (sha1, sha256; 460 on mismatch, the chunk discarded), expiration, termination.

    meta = parse_metadata("filename bW92aWUubXA0,projectId ...")
    algo, digest = parse_checksum("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=")
    result = await append_stream(part_path, offset, request.stream(), limit=remaining, checksum=(algo, digest))
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import hashlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-defer-length,checksum,expiration,termination"
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
#: Write (and hash) in blocks this big: one thread hop per MiB, not per socket read.
WRITE_BLOCK = 1024 * 1024
MAX_METADATA_BYTES = 16 * 1024
#: writev takes at most IOV_MAX (1024 on Linux) buffers; a trickling client sends many tiny pieces.
MAX_PIECES = 512


class TusError(Exception):
    """A protocol-level refusal: HTTP ``status`` with a machine ``code``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


class ChunkDiscarded(Exception):
    """An interrupted body that carried a checksum: nothing of it is kept."""


def base_headers() -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION}


def options_headers(max_size: int) -> dict[str, str]:
    return {**base_headers(), "Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(max_size), "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS)}


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def check_version(value: str | None) -> None:
    if value != TUS_VERSION:
        raise TusError(412, "TUS_VERSION_UNSUPPORTED", f"Tus-Resumable must be {TUS_VERSION}",
                       {"Tus-Version": TUS_VERSION})


def parse_int(value: str | None, name: str) -> int:
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise TusError(400, "BAD_HEADER", f"{name} must be a non-negative integer")
    return int(value)


def parse_creation_length(length: str | None, defer: str | None) -> int | None:
    """The creation's ``Upload-Length`` (None when deferred); exactly one of the two headers, defer only "1"."""
    if length is not None and defer is not None:
        raise TusError(400, "UPLOAD_LENGTH_CONFLICT", "send Upload-Length or Upload-Defer-Length, not both")
    if length is not None:
        return parse_int(length, "Upload-Length")
    if defer == "1":
        return None
    if defer is not None:
        raise TusError(400, "BAD_HEADER", "Upload-Defer-Length must be 1")
    raise TusError(400, "UPLOAD_LENGTH_REQUIRED", "send Upload-Length or Upload-Defer-Length: 1")


def parse_metadata(header: str | None) -> dict[str, str | None]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional)."""
    result: dict[str, str | None] = {}
    if not header:
        return result
    if len(header) > MAX_METADATA_BYTES:
        raise TusError(400, "BAD_METADATA", "Upload-Metadata is too long")
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key or not key.isascii() or " " in value.strip() or key in result:
            raise TusError(400, "BAD_METADATA", "Upload-Metadata must be unique 'key base64' pairs")
        try:
            result[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else None
        except (binascii.Error, UnicodeDecodeError) as ex:
            raise TusError(400, "BAD_METADATA", f"Upload-Metadata value of {key!r} is not base64 UTF-8") from ex
    return result


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``; 400 for an unsupported algorithm."""
    if header is None:
        return None
    algo, _, encoded = header.strip().partition(" ")
    if algo not in CHECKSUM_ALGORITHMS:
        raise TusError(400, "CHECKSUM_ALGORITHM_UNSUPPORTED", f"supported: {', '.join(CHECKSUM_ALGORITHMS)}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as ex:
        raise TusError(400, "BAD_CHECKSUM", "Upload-Checksum digest is not base64") from ex
    if len(digest) != hashlib.new(algo).digest_size:
        raise TusError(400, "BAD_CHECKSUM", f"Upload-Checksum digest has the wrong length for {algo}")
    return algo, digest


@dataclass
class AppendResult:
    """Where the file stands after one PATCH body."""

    offset: int
    written: int
    interrupted: bool


_HASH_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tus-hash")


def _update_all(hasher: Any, pieces: list[bytes]) -> None:
    for piece in pieces:
        hasher.update(piece)


class _Sink:
    """Blocking side of an append: writes blocks at the end of the part file and hashes them."""

    def __init__(self, path: Path, offset: int, hashers: list[Any]) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(self.fd, offset)  # bytes past the committed offset are from a broken request
        os.lseek(self.fd, offset, os.SEEK_SET)
        self.hashers = hashers

    def write(self, pieces: list[bytes]) -> None:
        """Write and hash the received pieces as they are (no joining copy)."""
        # Performance: hashlib releases the GIL, so the digests run on other cores while this writes.
        pending = [_HASH_POOL.submit(_update_all, hasher, pieces) for hasher in self.hashers]
        written = os.writev(self.fd, pieces)
        total = sum(len(p) for p in pieces)
        if written < total:  # a short write (rare on regular files): finish the rest piece by piece
            rest = memoryview(b"".join(pieces))[written:]
            while rest:
                rest = rest[os.write(self.fd, rest):]
        for future in pending:
            future.result()

    def rollback(self, offset: int) -> None:
        os.ftruncate(self.fd, offset)

    def close(self) -> None:
        os.close(self.fd)


class _Pipeline:
    """One block written (and hashed) in a thread while the next one is received."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.pending: asyncio.Future[None] | None = None

    async def submit(self, block: list[bytes]) -> None:
        await self.drain()
        self.pending = asyncio.ensure_future(asyncio.to_thread(self.sink.write, block))

    async def drain(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending


async def append_stream(path: Path, offset: int, body: AsyncIterator[bytes], *, limit: int,
                        checksum: tuple[str, bytes] | None, whole_file_hasher: Any = None,
                        disconnect: type[BaseException] = ConnectionError) -> AppendResult:
    """Append ``body`` to ``path`` at ``offset``; at most ``limit`` bytes.

    Raises TusError 413 (more than ``limit``) or 460 (checksum mismatch); the file is then cut
    back to ``offset``. A ``disconnect`` exception from ``body`` ends the request: without a
    checksum the bytes received are kept (tus: store as much as possible), with one they are
    discarded (they cannot be verified).
    """
    chunk_hasher = hashlib.new(checksum[0]) if checksum else None
    hashers = [h for h in (chunk_hasher, whole_file_hasher) if h is not None]
    sink = await asyncio.to_thread(_Sink, path, offset, hashers)
    pipe = _Pipeline(sink)
    pieces: list[bytes] = []
    buffered, written, interrupted = 0, 0, False
    try:
        try:
            async for data in body:
                written += len(data)
                if written > limit:
                    raise TusError(413, "UPLOAD_TOO_LARGE", "the body goes past Upload-Length")
                pieces.append(data)
                buffered += len(data)
                if buffered >= WRITE_BLOCK or len(pieces) >= MAX_PIECES:
                    await pipe.submit(pieces)
                    pieces, buffered = [], 0
        except disconnect:
            interrupted = True
        if pieces:
            await pipe.submit(pieces)
        await pipe.drain()
        if chunk_hasher is not None and checksum is not None:
            if interrupted:
                raise ChunkDiscarded("the request broke off before its checksummed body was complete")
            if chunk_hasher.digest() != checksum[1]:
                raise TusError(460, "CHECKSUM_MISMATCH", f"{checksum[0]} of the body does not match Upload-Checksum")
    except (TusError, ChunkDiscarded):
        await pipe.drain()
        await asyncio.to_thread(sink.rollback, offset)
        raise
    except OSError as ex:  # the disk: keep the part file at the last offset the client was told about
        with contextlib.suppress(OSError):
            await pipe.drain()
        with contextlib.suppress(OSError):
            await asyncio.to_thread(sink.rollback, offset)
        if ex.errno in (errno.ENOSPC, errno.EDQUOT):
            raise TusError(507, "INSUFFICIENT_STORAGE",
                           "the server's disk is full; nothing of this request was kept, retry later") from ex
        raise
    finally:
        with contextlib.suppress(OSError):
            await pipe.drain()
        await asyncio.to_thread(sink.close)
    return AppendResult(offset + written, written, interrupted)
