"""Signed download URLs: Range requests, tampering, expiry, revocation and tenant binding."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest

from app.config import Settings
from app.db import tenant_tx
from app.downloads import GrantError, parse_range, sign_download
from app.models import Asset, Job, Project
from app.storage.keys import output_key
from app.storage.local import LocalStorage
from tests.uploads.conftest import Owner, upload_all


def path_of(url: str) -> str:
    return urlsplit(url).path


async def ready_asset(http: httpx.AsyncClient, owner: Owner, data: bytes) -> Asset:
    resp = await upload_all(http, owner, data)
    assert resp.status_code == 204, resp.text
    async with tenant_tx(owner.tenant.id):
        return await Asset.get(id=resp.headers["Recap-Asset-Id"])


@pytest.mark.parametrize(("header", "size", "expected"), [
    (None, 100, None), ("bytes=0-9", 100, (0, 10)), ("bytes=90-", 100, (90, 100)), ("bytes=-10", 100, (90, 100)),
    ("bytes=95-200", 100, (95, 100)), ("bytes=-500", 100, (0, 100)), ("bytes=0-1,5-6", 100, None),
    ("items=0-1", 100, None),
])
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=5-2"])
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(GrantError) as info:
        parse_range(header, 100)
    assert info.value.status == 416


async def test_full_and_ranged_downloads(http: httpx.AsyncClient, owner: Owner, settings: Settings,
                                         clip_bytes: bytes) -> None:
    asset = await ready_asset(http, owner, clip_bytes)
    url = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("asset", asset.id),
                                key=asset.storage_key, filename="My recap \u00e9.mp4"))
    full = await http.get(url)
    assert full.status_code == 200 and full.content == clip_bytes
    assert full.headers["Accept-Ranges"] == "bytes" and full.headers["Content-Type"] == "video/mp4"
    assert "filename*=UTF-8''My%20recap%20%C3%A9.mp4" in full.headers["Content-Disposition"]
    n = len(clip_bytes)
    for header, start, end in [("bytes=0-99", 0, 100), ("bytes=1000-", 1000, n), ("bytes=-50", n - 50, n)]:
        part = await http.get(url, headers={"Range": header})
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes {start}-{end - 1}/{n}"
        assert part.content == clip_bytes[start:end]
    beyond = await http.get(url, headers={"Range": f"bytes={n}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{n}"
    head = await http.head(url)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(n) and head.content == b""


async def test_tampered_and_expired_links(http: httpx.AsyncClient, owner: Owner, settings: Settings,
                                          clip_bytes: bytes) -> None:
    asset = await ready_asset(http, owner, clip_bytes)
    url = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("asset", asset.id),
                                key=asset.storage_key))
    payload, mac = url.rsplit("/", 1)[1].split(".")
    other = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("project", owner.project_id),
                                  key=f"inputs/{owner.tenant.id}/{owner.project_id}/x.mp4"))
    other_payload = other.rsplit("/", 1)[1].split(".")[0]
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    for bad in [f"/downloads/{payload}.{flipped}", f"/downloads/{other_payload}.{mac}", f"/downloads/{payload}",
                f"/downloads/{payload[:-3]}.{mac}", "/downloads/garbage"]:
        resp = await http.get(bad)
        assert resp.status_code == 403, bad
        assert resp.json()["error"]["code"] == "BAD_SIGNATURE"
    expired = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("asset", asset.id),
                                    key=asset.storage_key, expires_in=60, now=time.time() - 61))
    resp = await http.get(expired)
    assert resp.status_code == 410 and resp.json()["error"]["code"] == "LINK_EXPIRED"
    wrong_secret = settings.model_copy(update={"signing_secret": "another-secret-entirely"})
    forged = path_of(sign_download(wrong_secret, tenant_id=owner.tenant.id, owner=("asset", asset.id),
                                   key=asset.storage_key))
    assert (await http.get(forged)).status_code == 403


async def test_links_revoked_when_job_or_project_deleted(http: httpx.AsyncClient, owner: Owner,
                                                         settings: Settings) -> None:
    async with tenant_tx(owner.tenant.id) as conn:
        job = await Job.create(tenant_id=owner.tenant.id, project_id=owner.project_id, using_db=conn)
    storage = LocalStorage(settings.storage_root)
    key = output_key(job.id, "final.mp4")
    await storage.put_stream(key, _chunks([b"recap bytes"]))
    job_url = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("job", job.id), key=key))
    project_url = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("project", owner.project_id),
                                        key=f"inputs/{owner.tenant.id}/{owner.project_id}/a.mp4"))
    await storage.put_stream(f"inputs/{owner.tenant.id}/{owner.project_id}/a.mp4", _chunks([b"source"]))
    assert (await http.get(job_url)).content == b"recap bytes"
    assert (await http.get(project_url)).content == b"source"
    async with tenant_tx(owner.tenant.id) as conn:
        await Job.filter(id=job.id).using_db(conn).delete()
    assert (await http.get(job_url)).status_code == 404
    async with tenant_tx(owner.tenant.id) as conn:
        await Project.filter(id=owner.project_id).using_db(conn).delete()
    assert (await http.get(project_url)).status_code == 404


async def test_links_are_tenant_bound(http: httpx.AsyncClient, owner: Owner, settings: Settings,
                                      owner_factory: Callable[..., Awaitable[Owner]], clip_bytes: bytes) -> None:
    asset = await ready_asset(http, owner, clip_bytes)
    stranger = await owner_factory()
    # A link naming another tenant cannot see the asset (row-level security), even with a valid signature.
    url = path_of(sign_download(settings, tenant_id=stranger.tenant.id, owner=("asset", asset.id),
                                key=asset.storage_key))
    assert (await http.get(url)).status_code == 404
    # A job link cannot reach outside its job's folders.
    job_id = UUID(int=7)
    escape = path_of(sign_download(settings, tenant_id=owner.tenant.id, owner=("job", job_id), key=asset.storage_key))
    assert (await http.get(escape)).status_code == 404


async def _chunks(parts: list[bytes]):  # type: ignore[no-untyped-def]
    for part in parts:
        yield part
