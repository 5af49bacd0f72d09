"""tus 1.0.0 edge cases over raw HTTP against the app served by uvicorn."""

from __future__ import annotations

import base64
import hashlib

import httpx

from app.db import tenant_tx
from app.models import Asset, AssetStatus, Upload, UploadState
from tests.uploads.conftest import Owner, encode_metadata, tus_create, tus_patch, upload_all


async def test_options_advertises_capabilities(http: httpx.AsyncClient) -> None:
    resp = await http.options("/uploads/")
    assert resp.status_code == 204
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert set(resp.headers["Tus-Extension"].split(",")) == {
        "creation", "creation-defer-length", "checksum", "expiration", "termination"}
    assert resp.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert int(resp.headers["Tus-Max-Size"]) > 0


async def test_version_mismatch_is_412(http: httpx.AsyncClient, owner: Owner) -> None:
    resp = await http.post("/uploads/", headers={**owner.headers(), "Tus-Resumable": "0.2.2", "Upload-Length": "5"})
    assert resp.status_code == 412
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert resp.headers["Tus-Resumable"] == "1.0.0"


async def test_auth_required(http: httpx.AsyncClient, owner: Owner) -> None:
    resp = await http.post("/uploads/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5"})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHENTICATED"
    assert resp.headers["Tus-Resumable"] == "1.0.0"


async def test_full_upload_creates_ready_asset(http: httpx.AsyncClient, owner: Owner, clip_bytes: bytes) -> None:
    created = await tus_create(http, owner, length=len(clip_bytes))
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.startswith(str(http.base_url).rstrip("/") + "/uploads/")
    assert "Upload-Expires" in created.headers
    head = await http.head(location, headers=owner.headers())
    assert (head.status_code, head.headers["Upload-Offset"], head.headers["Upload-Length"]) == (
        200, "0", str(len(clip_bytes)))
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Upload-Metadata"] == created.request.headers["Upload-Metadata"]
    half = len(clip_bytes) // 2
    first = await tus_patch(http, owner, location, 0, clip_bytes[:half])
    assert (first.status_code, first.headers["Upload-Offset"]) == (204, str(half))
    assert "Upload-Expires" in first.headers
    done = await tus_patch(http, owner, location, half, clip_bytes[half:])
    assert done.status_code == 204, done.text
    assert done.headers["Recap-Upload-State"] == "completed"
    async with tenant_tx(owner.tenant.id):
        asset = await Asset.get(id=done.headers["Recap-Asset-Id"])
    assert asset.status == AssetStatus.READY
    assert asset.sha256 == hashlib.sha256(clip_bytes).hexdigest()
    assert asset.size_bytes == len(clip_bytes)
    assert asset.probe is not None and asset.probe["has_video"] and "path" not in asset.probe
    assert asset.content_type == "video/mp4"
    assert asset.storage_key.startswith(f"inputs/{owner.tenant.id}/{owner.project_id}/{asset.id}")


async def test_content_type_must_be_offset_octet_stream(http: httpx.AsyncClient, owner: Owner) -> None:
    location = (await tus_create(http, owner, length=10)).headers["Location"]
    resp = await http.patch(location, content=b"0123456789",
                            headers=owner.headers(**{"Upload-Offset": "0", "Content-Type": "text/plain"}))
    assert resp.status_code == 415


async def test_offset_mismatch_is_409(http: httpx.AsyncClient, owner: Owner) -> None:
    location = (await tus_create(http, owner, length=10)).headers["Location"]
    assert (await tus_patch(http, owner, location, 0, b"01234")).status_code == 204
    resp = await tus_patch(http, owner, location, 3, b"34567")
    assert resp.status_code == 409
    assert resp.headers["Upload-Offset"] == "5"
    assert (await tus_patch(http, owner, location, 0, b"01234")).status_code == 409


async def test_body_past_length_is_413(http: httpx.AsyncClient, owner: Owner) -> None:
    location = (await tus_create(http, owner, length=4)).headers["Location"]
    resp = await tus_patch(http, owner, location, 0, b"0123456789")
    assert resp.status_code == 413
    head = await http.head(location, headers=owner.headers())
    assert head.headers["Upload-Offset"] == "0"


async def test_over_max_size_refused_at_creation(http: httpx.AsyncClient, owner: Owner, settings) -> None:  # type: ignore[no-untyped-def]
    resp = await tus_create(http, owner, length=settings.uploads.max_size_bytes + 1)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "UPLOAD_TOO_LARGE"


async def test_checksum_mismatch_is_460_and_chunk_discarded(http: httpx.AsyncClient, owner: Owner) -> None:
    location = (await tus_create(http, owner, length=20, kind="script", filename="s.txt")).headers["Location"]
    good = base64.b64encode(hashlib.sha1(b"first line\n").digest()).decode()
    resp = await tus_patch(http, owner, location, 0, b"first line\n", **{"Upload-Checksum": f"sha1 {good}"})
    assert (resp.status_code, resp.headers["Upload-Offset"]) == (204, "11")
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    resp = await tus_patch(http, owner, location, 11, b"second!!\n", **{"Upload-Checksum": f"sha256 {wrong}"})
    assert resp.status_code == 460
    assert resp.json()["error"]["code"] == "CHECKSUM_MISMATCH"
    head = await http.head(location, headers=owner.headers())
    assert head.headers["Upload-Offset"] == "11"
    right = base64.b64encode(hashlib.sha256(b"second!!\n").digest()).decode()
    resp = await tus_patch(http, owner, location, 11, b"second!!\n", **{"Upload-Checksum": f"sha256 {right}"})
    assert resp.status_code == 204, resp.text


async def test_unsupported_checksum_algorithm_is_400(http: httpx.AsyncClient, owner: Owner) -> None:
    location = (await tus_create(http, owner, length=3)).headers["Location"]
    resp = await tus_patch(http, owner, location, 0, b"abc", **{"Upload-Checksum": "md5 kAFQmDzST7DWlj99KOF/cg=="})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "CHECKSUM_ALGORITHM_UNSUPPORTED"


async def test_deferred_length(http: httpx.AsyncClient, owner: Owner) -> None:
    created = await tus_create(http, owner, length=None, kind="script", filename="notes.txt")
    location = created.headers["Location"]
    head = await http.head(location, headers=owner.headers())
    assert head.headers["Upload-Defer-Length"] == "1" and "Upload-Length" not in head.headers
    assert (await tus_patch(http, owner, location, 0, b"# Chapter\n")).status_code == 204
    assert (await tus_patch(http, owner, location, 10, b"", **{"Upload-Length": "5"})).status_code == 400
    done = await tus_patch(http, owner, location, 10, b"A beat.\n", **{"Upload-Length": "18"})
    assert done.status_code == 204, done.text
    head = await http.head(location, headers=owner.headers())
    assert (head.headers["Upload-Length"], head.headers["Recap-Upload-State"]) == ("18", "completed")
    changed = await tus_patch(http, owner, location, 18, b"", **{"Upload-Length": "20"})
    assert (changed.status_code, changed.json()["error"]["code"]) == (400, "UPLOAD_LENGTH_FIXED")


async def test_creation_needs_a_length(http: httpx.AsyncClient, owner: Owner) -> None:
    resp = await http.post("/uploads/", headers=owner.headers(
        **{"Upload-Metadata": encode_metadata(projectId=str(owner.project_id))}))
    assert resp.status_code == 400


async def test_termination(http: httpx.AsyncClient, owner: Owner, settings) -> None:  # type: ignore[no-untyped-def]
    location = (await tus_create(http, owner, length=10)).headers["Location"]
    await tus_patch(http, owner, location, 0, b"01234")
    upload_id = location.rsplit("/", 1)[1]
    part = settings.data_dir / "uploads" / f"{upload_id}.part"
    assert part.exists()
    resp = await http.delete(location, headers=owner.headers())
    assert resp.status_code == 204 and resp.headers["Tus-Resumable"] == "1.0.0"
    assert not part.exists()
    assert (await http.head(location, headers=owner.headers())).status_code == 404
    assert (await tus_patch(http, owner, location, 5, b"56789")).status_code == 404


async def test_disguised_text_file_rejected_with_code(http: httpx.AsyncClient, owner: Owner) -> None:
    text = b"This is not a movie, only text pretending to be one.\n" * 50
    resp = await upload_all(http, owner, text, filename="blockbuster.mp4")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "NOT_MEDIA"
    assert resp.headers["Recap-Error-Code"] == "NOT_MEDIA"
    async with tenant_tx(owner.tenant.id):
        asset = await Asset.get(id=resp.headers["Recap-Asset-Id"])
        upload = await Upload.get(asset_id=asset.id)
    assert (asset.status, asset.error_code, asset.storage_key) == (AssetStatus.REJECTED, "NOT_MEDIA", "")
    assert (upload.state, upload.error_code) == (UploadState.REJECTED, "NOT_MEDIA")


async def test_script_validated_as_text(http: httpx.AsyncClient, owner: Owner, clip_bytes: bytes) -> None:
    ok = await upload_all(http, owner, b"# Act one\n\nThe hero leaves home.\n", kind="script",
                          filename="recap.txt")
    assert ok.status_code == 204
    binary = await upload_all(http, owner, clip_bytes, kind="script", filename="recap.txt")
    assert binary.status_code == 422
    assert binary.json()["error"]["code"] == "SCRIPT_BINARY"
    empty = await upload_all(http, owner, b"  \n\n", kind="script", filename="recap.txt")
    assert empty.json()["error"]["code"] == "SCRIPT_EMPTY"


async def test_zero_length_upload_completes_on_creation(http: httpx.AsyncClient, owner: Owner) -> None:
    resp = await tus_create(http, owner, length=0)
    assert resp.status_code == 201
    assert resp.headers["Recap-Error-Code"] == "EMPTY_FILE"


async def test_offset_never_beyond_stored_bytes(http: httpx.AsyncClient, owner: Owner, settings) -> None:  # type: ignore[no-untyped-def]
    """After a crash that lost unsynced data, the server reports what the part file really holds."""
    location = (await tus_create(http, owner, length=10, kind="script", filename="s.txt")).headers["Location"]
    await tus_patch(http, owner, location, 0, b"0123456")
    part = settings.data_dir / "uploads" / f"{location.rsplit('/', 1)[1]}.part"
    with part.open("r+b") as fh:
        fh.truncate(4)
    head = await http.head(location, headers=owner.headers())
    assert head.headers["Upload-Offset"] == "4"
    assert (await tus_patch(http, owner, location, 4, b"456789")).status_code == 204
