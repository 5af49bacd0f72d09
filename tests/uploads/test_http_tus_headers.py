"""tus header hardening: absolute URLs from RECAP_PUBLIC_URL, never from Host; one creation length header."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from tests.uploads.conftest import Owner, encode_metadata, tus_create


async def test_location_ignores_a_forged_host(http: httpx.AsyncClient, owner: Owner, settings: Settings) -> None:
    created = await tus_create(http, owner, length=10, extra={"Host": "evil.example"})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location.startswith(f"{settings.public_url}/uploads/"), location
    assert "evil.example" not in location
    forwarded = await tus_create(http, owner, length=10, extra={"X-Forwarded-Host": "evil.example",
                                                                "Forwarded": "host=evil.example"})
    assert "evil.example" not in forwarded.headers["Location"]


async def test_location_follows_the_configured_public_url(client: httpx.AsyncClient, owner: Owner,
                                                          settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "public_url", "https://recap.example/")
    created = await tus_create(client, owner, length=10)
    upload_id = created.headers["Location"].rsplit("/", 1)[1]
    assert created.headers["Location"] == f"https://recap.example/uploads/{upload_id}"


@pytest.mark.parametrize(("headers", "code"), [
    ({"Upload-Length": "10", "Upload-Defer-Length": "1"}, "UPLOAD_LENGTH_CONFLICT"),
    ({"Upload-Length": "0", "Upload-Defer-Length": "1"}, "UPLOAD_LENGTH_CONFLICT"),
    ({"Upload-Defer-Length": "2"}, "BAD_HEADER"),
    ({}, "UPLOAD_LENGTH_REQUIRED"),
])
async def test_creation_length_headers(http: httpx.AsyncClient, owner: Owner, headers: dict[str, str],
                                       code: str) -> None:
    meta = encode_metadata(filename="m.mp4", projectId=str(owner.project_id), kind="source_video")
    resp = await http.post("/uploads/", headers=owner.headers(**{"Upload-Metadata": meta}, **headers))
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, code)
    assert resp.headers["Tus-Resumable"] == "1.0.0"
