"""A clamd client speaking INSTREAM: stream a file to the daemon and read its verdict.

Protocol: send ``zINSTREAM\\0``, then chunks each prefixed by a 4-byte big-endian length, then
a zero length; clamd answers ``stream: OK\\0`` or ``stream: <Signature> FOUND\\0`` (or an
``... ERROR`` line, e.g. when StreamMaxLength is exceeded).

    result = await scan_file("tcp://127.0.0.1:3310", Path("upload.part"))
    if not result.clean: print(result.signature)
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.errors import AppError

CHUNK = 256 * 1024


class ScanError(AppError):
    """clamd could not give a verdict (unreachable, protocol error, size limit)."""

    def __init__(self, message: str) -> None:
        super().__init__("VIRUS_SCAN_FAILED", message)


@dataclass(frozen=True, slots=True)
class ScanResult:
    clean: bool
    signature: str | None = None


async def _connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return await asyncio.open_unix_connection(parts.path)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return await asyncio.open_connection(parts.hostname, parts.port)
    raise ScanError(f"clamd url must be tcp://host:port or unix:///path, not {url!r}")


def parse_reply(reply: bytes) -> ScanResult:
    """``stream: OK`` -> clean; ``stream: X FOUND`` -> infected with X; anything else -> ScanError."""
    text = reply.rstrip(b"\0\n").decode("utf-8", errors="replace")
    _, _, verdict = text.partition(": ")
    if verdict == "OK":
        return ScanResult(True)
    if verdict.endswith(" FOUND"):
        return ScanResult(False, verdict.removesuffix(" FOUND"))
    raise ScanError(f"clamd answered {text[:200]!r}")


async def scan_file(url: str, path: Path, *, limit_s: float = 300.0) -> ScanResult:
    """Stream ``path`` to clamd at ``url`` (``tcp://host:port`` or ``unix:///socket``)."""
    try:
        async with asyncio.timeout(limit_s):
            reader, writer = await _connect(url)
            try:
                writer.write(b"zINSTREAM\0")
                with path.open("rb") as fh:
                    while data := await asyncio.to_thread(fh.read, CHUNK):
                        writer.write(struct.pack(">I", len(data)) + data)
                        await writer.drain()
                writer.write(struct.pack(">I", 0))
                await writer.drain()
                reply = await reader.readuntil(b"\0")
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as ex:
        raise ScanError(f"clamd unavailable: {type(ex).__name__}") from ex
    return parse_reply(reply)
