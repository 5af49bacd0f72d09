"""Resuming after broken connections (raw sockets cut mid-body) and with the real tuspy client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient

from app.db import tenant_tx
from app.models import Asset, AssetStatus
from tests.uploads.conftest import Owner, encode_metadata, tus_create, tus_patch


async def send_partial_patch(location: str, owner: Owner, offset: int, body: bytes, cut: int,
                             checksum: bool) -> None:
    """A PATCH announcing ``len(body)`` bytes whose connection dies after ``cut`` of them."""
    url = urlsplit(location)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    headers = {**owner.headers(), "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
               "Content-Length": str(len(body)), "Host": url.netloc}
    if checksum:
        headers["Upload-Checksum"] = "sha1 " + base64.b64encode(hashlib.sha1(body).digest()).decode()
    head = f"PATCH {url.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode() + body[:cut])
    await writer.drain()
    writer.transport.abort()  # the client vanishes mid-body
    del reader


async def offset_of(http: httpx.AsyncClient, owner: Owner, location: str) -> int:
    head = await http.head(location, headers=owner.headers())
    assert head.status_code == 200
    return int(head.headers["Upload-Offset"])


async def resume_to_end(http: httpx.AsyncClient, owner: Owner, location: str, data: bytes) -> httpx.Response:
    """What a tus client does after a failure: HEAD, then PATCH the rest (retrying 409/423 races)."""
    for _ in range(200):
        offset = await offset_of(http, owner, location)
        resp = await tus_patch(http, owner, location, offset, data[offset:])
        if resp.status_code not in (409, 423):
            return resp
        await asyncio.sleep(0.02)
    raise AssertionError("the upload never became free again")


async def settle(redis_client: Any, location: str) -> None:
    """Wait until the server has finished with the broken request (its upload lock is released)."""
    key = f"recap:upload:lock:{location.rsplit('/', 1)[1]}"
    for _ in range(1000):  # the handler takes the lock before it reads the body...
        if await redis_client.exists(key):
            break
        await asyncio.sleep(0.002)
    for _ in range(1000):  # ...and lets it go once the disconnect is handled
        if not await redis_client.exists(key):
            return
        await asyncio.sleep(0.002)


@pytest.mark.slow
async def test_resume_after_50_random_interruptions(http: httpx.AsyncClient, owner: Owner, clip_bytes: bytes,
                                                    redis_client: Any) -> None:
    rng = random.Random(20261125)
    data = clip_bytes
    expected = hashlib.sha256(data).hexdigest()
    checksummed = kept = 0
    for round_no in range(50):
        location = (await tus_create(http, owner, length=len(data))).headers["Location"]
        offset = 0
        for _ in range(rng.randint(1, 3)):  # one to three breaks per upload, each at a random byte
            end = rng.randint(offset + 1, len(data))
            cut = rng.randint(0, end - offset - 1)
            checksum = rng.random() < 0.5
            await send_partial_patch(location, owner, offset, data[offset:end], cut, checksum)
            await settle(redis_client, location)
            new = await offset_of(http, owner, location)
            # Bytes still in flight when the socket died may be lost; a checksummed body is all or nothing.
            assert offset <= new <= offset + cut, (round_no, offset, cut, new)
            if checksum:
                assert new == offset
                checksummed += 1
            kept += new > offset
            offset = new
        done = await resume_to_end(http, owner, location, data)
        assert done.status_code == 204, done.text
        async with tenant_tx(owner.tenant.id):
            asset = await Asset.get(id=done.headers["Recap-Asset-Id"])
        assert (asset.status, asset.sha256) == (AssetStatus.READY, expected)
    assert checksummed > 10 and kept > 10  # both paths exercised


def _tuspy_upload(url: str, owner: Owner, path: str, stop_at: int | None, resume: str | None) -> str:
    client = TusClient(url, headers={"Authorization": f"Bearer {owner.token}"})
    uploader = client.uploader(path, url=resume, chunk_size=16 * 1024, upload_checksum=True,
                               metadata={"filename": "tuspy movie.mp4", "projectId": str(owner.project_id),
                                         "kind": "source_video"})
    uploader.upload(stop_at=stop_at)
    return str(uploader.url)


async def test_tuspy_client_upload_and_resume(live: str, http: httpx.AsyncClient, owner: Owner, clip_bytes: bytes,
                                              tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "movie.mp4"
    path.write_bytes(clip_bytes)
    half = (len(clip_bytes) // 2) // (16 * 1024) * (16 * 1024)
    # The sync client runs in a thread: the server shares this test's event loop.
    url = await asyncio.to_thread(_tuspy_upload, f"{live}/uploads/", owner, str(path), half, None)
    assert await offset_of(http, owner, url) == half
    again = await asyncio.to_thread(_tuspy_upload, f"{live}/uploads/", owner, str(path), None, url)
    assert again == url
    head = await http.head(url, headers=owner.headers())
    assert head.headers["Recap-Upload-State"] == "completed"
    async with tenant_tx(owner.tenant.id):
        asset = await Asset.get(id=head.headers["Recap-Asset-Id"])
    assert asset.sha256 == hashlib.sha256(clip_bytes).hexdigest()
    assert asset.filename == "tuspy movie.mp4"


async def test_metadata_helper_matches_tuspy_encoding() -> None:
    assert encode_metadata(filename="a b") == "filename " + base64.b64encode(b"a b").decode()
