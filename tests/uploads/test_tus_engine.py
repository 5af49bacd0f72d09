"""The tus engine without HTTP: header parsing and the streaming append (known answers)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.uploads.tus import (
    ChunkDiscarded,
    TusError,
    append_stream,
    check_version,
    parse_checksum,
    parse_int,
    parse_metadata,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("header", "expected"), [
    (None, {}),
    ("", {}),
    (f"filename {b64('movie.mp4')}", {"filename": "movie.mp4"}),
    (f"filename {b64('a b')},is_confidential", {"filename": "a b", "is_confidential": None}),
    (f"name {b64('名前')}, kind {b64('script')}", {"name": "名前", "kind": "script"}),
])
def test_parse_metadata(header: str | None, expected: dict[str, str | None]) -> None:
    assert parse_metadata(header) == expected


@pytest.mark.parametrize("header", ["filename not*base64", f"a {b64('x')},a {b64('y')}", "k v w",
                                   "k " + base64.b64encode(bytes([255, 254])).decode(), "x" * 20000])
def test_parse_metadata_refuses(header: str) -> None:
    with pytest.raises(TusError) as info:
        parse_metadata(header)
    assert info.value.status == 400


def test_parse_checksum() -> None:
    digest = hashlib.sha1(b"abc").digest()
    assert parse_checksum(f"sha1 {base64.b64encode(digest).decode()}") == ("sha1", digest)
    assert parse_checksum(None) is None
    for bad, code in [("md5 kAFQmDzST7DWlj99KOF/cg==", "CHECKSUM_ALGORITHM_UNSUPPORTED"), ("sha1 !!", "BAD_CHECKSUM"),
                      ("sha256 " + base64.b64encode(digest).decode(), "BAD_CHECKSUM")]:
        with pytest.raises(TusError) as info:
            parse_checksum(bad)
        assert (info.value.status, info.value.code) == (400, code)


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("123", True), ("-1", False), ("1e3", False), (None, False),
                                           ("9" * 20, False)])
def test_parse_int(value: str | None, ok: bool) -> None:
    if ok:
        assert parse_int(value, "Upload-Offset") == int(value or 0)
    else:
        with pytest.raises(TusError):
            parse_int(value, "Upload-Offset")


def test_version() -> None:
    check_version("1.0.0")
    with pytest.raises(TusError) as info:
        check_version("0.2.2")
    assert info.value.status == 412 and info.value.headers == {"Tus-Version": "1.0.0"}


async def pieces(data: bytes, size: int, fail: bool = False) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]
    if fail:
        raise ConnectionError("client went away")


async def test_append_many_tiny_pieces(tmp_path: Path) -> None:
    """A trickling client (1-byte pieces) stays under the writev buffer limit."""
    path = tmp_path / "u.part"
    path.write_bytes(b"head")
    data = bytes(range(256)) * 20
    whole = hashlib.sha256(b"head")
    result = await append_stream(path, 4, pieces(data, 1), limit=len(data), checksum=None, whole_file_hasher=whole)
    assert (result.offset, result.written, result.interrupted) == (4 + len(data), len(data), False)
    assert path.read_bytes() == b"head" + data
    assert whole.hexdigest() == hashlib.sha256(b"head" + data).hexdigest()


async def test_append_truncates_bytes_past_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "u.part"
    path.write_bytes(b"committed+garbage-from-a-crash")
    await append_stream(path, 9, pieces(b"!new", 3), limit=100, checksum=None)
    assert path.read_bytes() == b"committed!new"


@pytest.mark.parametrize(("checksum_of", "limit", "fail", "expected"), [
    (b"payload!" * 300_000, 10**9, False, "ok"),
    (b"something else", 10**9, False, 460),
    (None, 100, False, 413),
    (b"payload!" * 300_000, 10**9, True, "discarded"),
    (None, 10**9, True, "kept"),
])
async def test_append_outcomes(tmp_path: Path, checksum_of: bytes | None, limit: int, fail: bool,
                               expected: object) -> None:
    path = tmp_path / "u.part"
    path.write_bytes(b"0123")
    data = b"payload!" * 300_000  # 2.4 MB: several write blocks
    checksum = ("sha256", hashlib.sha256(checksum_of).digest()) if checksum_of is not None else None
    body = pieces(data, 65536, fail=fail)
    if expected in (460, 413):
        with pytest.raises(TusError) as info:
            await append_stream(path, 4, body, limit=limit, checksum=checksum)
        assert info.value.status == expected
        assert path.read_bytes() == b"0123"  # the chunk is discarded
    elif expected == "discarded":
        with pytest.raises(ChunkDiscarded):
            await append_stream(path, 4, body, limit=limit, checksum=checksum)
        assert path.read_bytes() == b"0123"
    else:
        result = await append_stream(path, 4, body, limit=limit, checksum=checksum)
        assert path.read_bytes() == b"0123" + data
        assert result.interrupted is (expected == "kept")
