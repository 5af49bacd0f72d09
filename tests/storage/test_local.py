"""LocalStorage: key validation, atomic writes, ranges, listing, moves."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

from app.config import Settings, StorageSettings
from app.storage import delete_prefix, fetch_to, get_storage
from app.storage.errors import InvalidKeyError, ObjectNotFoundError, RangeNotSatisfiableError
from app.storage.keys import input_key, output_key, safe_extension, validate_key
from app.storage.local import LocalStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "root")


async def chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize("key", [
    "", "/etc/passwd", "inputs/../etc/passwd", "inputs/a/../../x", "inputs/a\x00b", "inputs//a", "inputs/a/",
    "inputs/.hidden", "inputs/.tmp-123", "other/a", "inputs\\a", "inputs/a b", "inputs/" + "a" * 1100,
    "inputs/caf\u00e9", "inputs/a\u202egnp.exe", "inputs/..", "inputs/a..b",
])
async def test_hostile_keys_refused(storage: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        validate_key(key)
    with pytest.raises(InvalidKeyError):
        await storage.put_stream(key, chunks([b"x"]))
    with pytest.raises(InvalidKeyError):
        await storage.stat(key)


@pytest.mark.parametrize(("name", "ext"), [("movie.MP4", ".mp4"), ("a.tar.gz", ".gz"), ("noext", ""),
                                           (".bashrc", ""), ("x.verylongext1", ""), ("x.m p4", "")])
def test_safe_extension(name: str, ext: str) -> None:
    assert safe_extension(name) == ext


def test_key_builders() -> None:
    t, p, a, j = uuid4(), uuid4(), uuid4(), uuid4()
    assert input_key(t, p, a, ".mp4") == f"inputs/{t}/{p}/{a}.mp4"
    assert output_key(j, "captions/final.srt") == f"outputs/{j}/captions/final.srt"
    with pytest.raises(InvalidKeyError):
        output_key(j, "../escape")
    with pytest.raises(InvalidKeyError):
        input_key(t, p, a, "/../x")


async def test_put_stream_range_stat_list_move_delete(storage: LocalStorage) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    key = "outputs/j1/final.mp4"
    stat = await storage.put_stream(key, chunks([data[:1000], data[1000:]]))
    assert (stat.key, stat.size) == (key, len(data))
    assert b"".join([c async for c in storage.open_range(key)]) == data
    assert b"".join([c async for c in storage.open_range(key, 5, 2_000_000)]) == data[5:2_000_000]
    with pytest.raises(RangeNotSatisfiableError):
        [c async for c in storage.open_range(key, len(data))]
    await storage.put_stream("outputs/j1/sub/a.json", chunks([b"{}"]))
    await storage.put_stream("outputs/j2/b.json", chunks([b"{}"]))
    assert [s.key for s in await storage.list("outputs/j1/")] == ["outputs/j1/final.mp4", "outputs/j1/sub/a.json"]
    assert [s.key for s in await storage.list("outputs/j")] == [
        "outputs/j1/final.mp4", "outputs/j1/sub/a.json", "outputs/j2/b.json"]
    await storage.move(key, "outputs/j3/moved.mp4")
    assert await storage.stat(key) is None
    assert (await storage.stat("outputs/j3/moved.mp4")).size == len(data)  # type: ignore[union-attr]
    assert await storage.delete("outputs/j3/moved.mp4") is True
    assert await storage.delete("outputs/j3/moved.mp4") is False
    assert not (storage.root / "outputs" / "j3").exists()  # empty folders pruned
    with pytest.raises(ObjectNotFoundError):
        await storage.move("outputs/j3/moved.mp4", "outputs/j4/x")


async def test_failed_stream_leaves_nothing(storage: LocalStorage) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial data"
        raise ConnectionError("client went away")

    key = "inputs/t/p/a.mp4"
    await storage.put_stream(key, chunks([b"old"]))
    with pytest.raises(ConnectionError):
        await storage.put_stream(key, broken())
    assert b"".join([c async for c in storage.open_range(key)]) == b"old"  # the old object intact
    assert sorted(p.name for p in (storage.root / "inputs/t/p").iterdir()) == ["a.mp4"]  # no temp left


async def test_put_file_copy_and_move(storage: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc" * 1000)
    await storage.put_file("intermediate/j/probe.json", src)
    assert src.exists()
    await storage.put_file("intermediate/j/moved.json", src, move=True)
    assert not src.exists()
    local = storage.local_path("intermediate/j/moved.json")
    assert local is not None and local.read_bytes() == b"abc" * 1000
    assert await fetch_to(storage, "intermediate/j/moved.json", tmp_path / "x") == local


async def test_symlink_escape_refused(storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (storage.root / "inputs").mkdir()
    (storage.root / "inputs" / "t").symlink_to(outside)
    with pytest.raises(InvalidKeyError):
        await storage.put_stream("inputs/t/x", chunks([b"x"]))
    assert list(outside.iterdir()) == []


def test_get_storage_local(tmp_path: Path) -> None:
    # Explicit storage group: the session fixture exports RECAP_STORAGE__ROOT for the other tests.
    storage = get_storage(Settings(data_dir=tmp_path, storage=StorageSettings()))
    assert isinstance(storage, LocalStorage) and storage.root == (tmp_path / "storage").resolve()


async def test_delete_prefix(storage: LocalStorage) -> None:
    for key in ["outputs/j1/a", "outputs/j1/b/c", "outputs/j10/x", "intermediate/j1/y"]:
        await storage.put_stream(key, chunks([b"1"]))
    assert await delete_prefix(storage, "outputs/j1/") == 2
    assert [s.key for s in await storage.list("outputs/")] == ["outputs/j10/x"]
