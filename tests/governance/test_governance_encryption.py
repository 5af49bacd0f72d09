"""Envelope encryption at rest on the local backend: no plaintext on disk; ranges, rotation, tampering."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from app.config import StorageSettings
from app.storage.encrypted import HEADER_SIZE, DecryptionError, EncryptedStorage, Keyring, plain_size, rewrap
from app.storage.local import LocalStorage

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def ring(current: str, *older: str, chunk: int = 4096) -> Keyring:
    return Keyring.from_settings(StorageSettings(encryption_key=current, encryption_old_keys=list(older),
                                                 encryption_chunk_size=chunk))


async def read(storage: EncryptedStorage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([p async for p in storage.open_range(key, start, end)])


def raw_files(root: Path) -> list[bytes]:
    return [p.read_bytes() for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096, 50_000])
async def test_round_trip_and_every_range(tmp_path: Path, size: int) -> None:
    storage = EncryptedStorage(LocalStorage(tmp_path / "s"), ring(KEY_A))
    data = os.urandom(size)
    stat = await storage.put_stream("outputs/j/a.bin", _chunks(data, 1000))
    assert stat.size == size and (await storage.stat("outputs/j/a.bin")).size == size  # type: ignore[union-attr]
    assert await read(storage, "outputs/j/a.bin") == data
    for start, end in [(0, 1), (4095, 4097), (1, size), (size // 2, None), (4096, 8192)]:
        if start < size and (end is None or end > start):
            assert await read(storage, "outputs/j/a.bin", start, end) == data[start:end], (start, end)


async def test_no_plaintext_reaches_the_disk(tmp_path: Path) -> None:
    root = tmp_path / "s"
    storage = EncryptedStorage(LocalStorage(root), ring(KEY_A, chunk=64 * 1024))
    secret = b"THE-SECRET-SCRIPT-LINE " * 20_000  # ~460 KB of a recognisable pattern
    src = tmp_path / "in.txt"
    src.write_bytes(secret)
    await storage.put_file("inputs/t/p/script.txt", src)
    await storage.put_stream("outputs/j/notes.txt", _chunks(secret, 65_536))
    blobs = raw_files(root)
    assert len(blobs) == 2
    for blob in blobs:
        assert b"THE-SECRET" not in blob and b"SCRIPT" not in blob
        assert plain_size(len(blob), 64 * 1024) == len(secret)
    assert storage.local_path("outputs/j/notes.txt") is None  # nobody may read the ciphertext as a file
    assert await read(storage, "inputs/t/p/script.txt") == secret


async def test_rotation_rewraps_headers_and_old_keys_still_read(tmp_path: Path) -> None:
    root = tmp_path / "s"
    old = EncryptedStorage(LocalStorage(root), ring(KEY_A))
    data = os.urandom(20_000)
    await old.put_stream("outputs/j/x.bin", _chunks(data, 3000))
    rotated = EncryptedStorage(LocalStorage(root), ring(KEY_B, KEY_A))
    assert await read(rotated, "outputs/j/x.bin") == data  # found by key id among the old keys
    body_before = (root / "outputs/j/x.bin").read_bytes()[HEADER_SIZE:]
    assert await rewrap(rotated, "outputs/j/x.bin") is True
    assert await rewrap(rotated, "outputs/j/x.bin") is False
    assert (root / "outputs/j/x.bin").read_bytes()[HEADER_SIZE:] == body_before  # only the header changed
    only_new = EncryptedStorage(LocalStorage(root), ring(KEY_B))
    assert await read(only_new, "outputs/j/x.bin") == data
    with pytest.raises(DecryptionError):
        await read(EncryptedStorage(LocalStorage(root), ring(KEY_A)), "outputs/j/x.bin")


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap"])
async def test_tampering_is_refused(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "s"
    storage = EncryptedStorage(LocalStorage(root), ring(KEY_A))
    await storage.put_stream("outputs/j/x.bin", _chunks(os.urandom(12_000), 4096))
    path = root / "outputs/j/x.bin"
    blob = bytearray(path.read_bytes())
    sealed = 4096 + 28
    if damage == "flip":
        blob[HEADER_SIZE + 100] ^= 1
    elif damage == "truncate":  # drop the last chunk: the new last one was not sealed as last
        del blob[HEADER_SIZE + 2 * sealed:]
    else:
        a, b = HEADER_SIZE, HEADER_SIZE + sealed
        blob[a:b], blob[b:b + sealed] = blob[b:b + sealed], blob[a:b]
    path.write_bytes(bytes(blob))
    with pytest.raises(DecryptionError):
        await read(storage, "outputs/j/x.bin")


async def _chunks(data: bytes, size: int):  # type: ignore[no-untyped-def]
    for i in range(0, len(data), size):
        yield data[i:i + size]
