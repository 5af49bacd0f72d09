"""Envelope encryption at rest: AES-256-GCM per object, chunked, around any storage backend.

Each object gets a random 256-bit data key, wrapped (AES-256-GCM) by the master key from settings
(``RECAP_STORAGE__ENCRYPTION_KEY``, base64 of 32 bytes). The object is a header followed by chunks,
each encrypted on its own with a fresh random nonce, so a ranged read decrypts only the chunks it
touches and an object can be written (or resumed) chunk by chunk::

    header  "RCE1" | version 1 | chunk size (u32) | master key id (8) | wrap nonce (12) | wrapped key (48)
    chunk i nonce (12) | ciphertext (<= chunk size) | tag (16);  AAD = "RCE1" | i (u64) | last (u8)

The AAD binds every chunk to its position and marks the last one, so chunks cannot be reordered,
dropped or the object truncated without the read failing (``StorageError`` code ``DECRYPTION_FAILED``).
The plaintext size follows from the stored size. Key rotation: set the new master key, list the old
one in ``encryption_old_keys`` (reads find a master key by its id), then :func:`rewrap` every object
(only the 81-byte header changes; the data keys and the chunks stay).

    storage = EncryptedStorage(LocalStorage(root), Keyring.from_settings(settings.storage))
    await storage.put_file("outputs/<job>/final.mp4", path)
    async for chunk in storage.open_range("outputs/<job>/final.mp4", 1000, 2000): ...
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.storage import StatResult, Storage
from app.storage.errors import ObjectNotFoundError, RangeNotSatisfiableError, StorageError

if TYPE_CHECKING:
    from app.config import StorageSettings

MAGIC = b"RCE1"
VERSION = 1
NONCE = 12
TAG = 16
KEY_ID = 8
_HEAD = struct.Struct(">4sBI8s12s48s")
HEADER_SIZE = _HEAD.size  # 81
_WRAP_AAD = b"recap-data-key-v1"


class DecryptionError(StorageError):
    code = "DECRYPTION_FAILED"


def _key_id(master: bytes) -> bytes:
    return hashlib.sha256(b"recap-master-key-id:" + master).digest()[:KEY_ID]


def _decode_key(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("an encryption key must be base64 of exactly 32 bytes (AES-256)")
    return raw


@dataclass(frozen=True)
class Keyring:
    """The master key new objects are wrapped with, and the older ones that still unwrap."""

    current: bytes
    older: tuple[bytes, ...] = ()
    chunk_size: int = 64 * 1024

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> Keyring:
        if not settings.encryption_key:
            raise ValueError("storage.encryption_key is not set")
        return cls(_decode_key(settings.encryption_key), tuple(_decode_key(k) for k in settings.encryption_old_keys),
                   settings.encryption_chunk_size)

    def master(self, key_id: bytes) -> bytes:
        for key in (self.current, *self.older):
            if _key_id(key) == key_id:
                return key
        raise DecryptionError("the object's master key is not configured (rotated out too early?)")


@dataclass(frozen=True)
class Header:
    chunk_size: int
    key_id: bytes
    wrap_nonce: bytes
    wrapped: bytes

    def pack(self) -> bytes:
        return _HEAD.pack(MAGIC, VERSION, self.chunk_size, self.key_id, self.wrap_nonce, self.wrapped)

    @classmethod
    def unpack(cls, raw: bytes) -> Header:
        if len(raw) < HEADER_SIZE:
            raise DecryptionError("the object is too short to be encrypted")
        magic, version, chunk, key_id, nonce, wrapped = _HEAD.unpack(raw[:HEADER_SIZE])
        if magic != MAGIC or version != VERSION or chunk <= 0:
            raise DecryptionError("the object is not in the encrypted format")
        return cls(chunk, key_id, nonce, wrapped)

    def data_key(self, ring: Keyring) -> bytes:
        try:
            return AESGCM(ring.master(self.key_id)).decrypt(self.wrap_nonce, self.wrapped, _WRAP_AAD)
        except InvalidTag as ex:
            raise DecryptionError("the data key does not unwrap") from ex

    @classmethod
    def new(cls, ring: Keyring, data_key: bytes) -> Header:
        nonce = os.urandom(NONCE)
        return cls(ring.chunk_size, _key_id(ring.current), nonce,
                   AESGCM(ring.current).encrypt(nonce, data_key, _WRAP_AAD))


def _aad(index: int, last: bool) -> bytes:
    return MAGIC + struct.pack(">QB", index, int(last))


def seal_chunk(key: AESGCM, index: int, plain: bytes, last: bool) -> bytes:
    nonce = os.urandom(NONCE)  # random per chunk: a resumed write may seal the same index again safely
    return nonce + key.encrypt(nonce, plain, _aad(index, last))


def open_chunk(key: AESGCM, index: int, sealed: bytes, last: bool) -> bytes:
    try:
        return key.decrypt(sealed[:NONCE], sealed[NONCE:], _aad(index, last))
    except InvalidTag as ex:
        raise DecryptionError(f"chunk {index} does not authenticate (tampered, reordered or truncated)") from ex


def plain_size(stored: int, chunk: int) -> int:
    """Plaintext bytes of an object of ``stored`` bytes (header + chunks, each ``NONCE + TAG`` larger)."""
    body = stored - HEADER_SIZE
    if body <= 0:
        return 0
    whole, rest = divmod(body, chunk + NONCE + TAG)
    return whole * chunk + max(0, rest - NONCE - TAG)


def _chunks_of(size: int, chunk: int) -> int:
    return max(1, -(-size // chunk))


async def encrypt_stream(ring: Keyring, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Header, then sealed chunks of ``ring.chunk_size`` plaintext bytes (an empty object is one empty chunk)."""
    data_key = AESGCM.generate_key(bit_length=256)
    yield Header.new(ring, data_key).pack()
    key, size, index = AESGCM(data_key), ring.chunk_size, 0
    pending = bytearray()
    async for piece in chunks:
        pending += piece
        while len(pending) > size:  # keep at least one byte back: the last chunk is sealed as last
            yield seal_chunk(key, index, bytes(pending[:size]), last=False)
            del pending[:size]
            index += 1
    yield seal_chunk(key, index, bytes(pending), last=True)


class EncryptedStorage:
    """A :class:`~app.storage.Storage` that stores every object encrypted in ``inner``."""

    def __init__(self, inner: Storage, ring: Keyring) -> None:
        self.inner, self.ring = inner, ring

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> StatResult:
        stat = await self.inner.put_stream(key, encrypt_stream(self.ring, chunks))
        return await self._plain_stat(stat)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> StatResult:
        if not path.is_file():
            raise ObjectNotFoundError(f"no such local file: {path.name}")
        fd, tmp_name = tempfile.mkstemp(prefix=".enc-", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with tmp.open("wb") as out:
                async for sealed in encrypt_stream(self.ring, _read_file(path)):
                    await asyncio.to_thread(out.write, sealed)
            stat = await self.inner.put_file(key, tmp, move=True)
        finally:
            tmp.unlink(missing_ok=True)
        if move:
            path.unlink(missing_ok=True)
        return await self._plain_stat(stat)

    async def _header(self, key: str) -> Header:
        raw = b"".join([piece async for piece in self.inner.open_range(key, 0, HEADER_SIZE)])
        return Header.unpack(raw)

    async def _plain_stat(self, stat: StatResult) -> StatResult:
        header = await self._header(stat.key)
        return StatResult(stat.key, plain_size(stat.size, header.chunk_size), stat.modified, stat.etag)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        stat = await self.inner.stat(key)
        if stat is None:
            raise ObjectNotFoundError(f"no object {key}")
        header = await self._header(key)
        chunk = header.chunk_size
        size = plain_size(stat.size, chunk)
        stop = size if end is None else min(end, size)
        if start < 0 or (start >= size and size > 0) or stop < start:
            raise RangeNotSatisfiableError(f"range {start}-{end} outside 0-{size}")
        if stop == start:
            return
        data_key = AESGCM(header.data_key(self.ring))
        sealed_size, count = chunk + NONCE + TAG, _chunks_of(size, chunk)
        first, last = start // chunk, (stop - 1) // chunk

        def sealed_len(index: int) -> int:
            return sealed_size if index < count - 1 else stat.size - HEADER_SIZE - index * sealed_size

        buffer, index, need = bytearray(), first, sealed_len(first)
        async for piece in self.inner.open_range(key, HEADER_SIZE + first * sealed_size,
                                                 min(stat.size, HEADER_SIZE + (last + 1) * sealed_size)):
            buffer += piece
            while index <= last and len(buffer) >= need:
                plain = open_chunk(data_key, index, bytes(buffer[:need]), last=index == count - 1)
                del buffer[:need]
                lo = start - index * chunk if index == first else 0
                hi = stop - index * chunk if index == last else len(plain)
                yield plain[lo:hi]
                index += 1
                need = sealed_len(index) if index <= last else 0
        if index <= last:
            raise DecryptionError("the object ended before its last chunk")

    async def stat(self, key: str) -> StatResult | None:
        stat = await self.inner.stat(key)
        return None if stat is None else await self._plain_stat(stat)

    async def delete(self, key: str) -> bool:
        return await self.inner.delete(key)

    async def list(self, prefix: str) -> list[StatResult]:
        return [await self._plain_stat(s) for s in await self.inner.list(prefix)]

    async def move(self, src: str, dst: str) -> None:
        await self.inner.move(src, dst)  # the chunks are bound to their position, not to the key

    def local_path(self, key: str) -> Path | None:
        return None  # the file on disk is ciphertext: callers must read through open_range / fetch_to

    async def close(self) -> None:
        await self.inner.close()


async def _read_file(path: Path, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while data := await asyncio.to_thread(fh.read, size):
            yield data


async def rewrap(storage: EncryptedStorage, key: str) -> bool:
    """Re-wrap one object's data key with the current master key (rotation); False when already current.

    Only the header changes; the object is rewritten through the backend's atomic put.
    """
    header = await storage._header(key)
    if header.key_id == _key_id(storage.ring.current):
        return False
    fresh = Header.new(storage.ring, header.data_key(storage.ring))
    fresh = Header(header.chunk_size, fresh.key_id, fresh.wrap_nonce, fresh.wrapped)

    async def body() -> AsyncIterator[bytes]:
        yield fresh.pack()
        async for piece in storage.inner.open_range(key, HEADER_SIZE, None):
            yield piece

    await storage.inner.put_stream(key, body())
    return True
