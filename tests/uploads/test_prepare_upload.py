"""GraphQL ``prepareUpload``: a ticket whose endpoint and metadata drive a real tus upload."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.config import Settings
from app.db import tenant_tx
from app.models import QuotaPolicy, Role
from tests.uploads.conftest import Owner

MUTATION = """
mutation($input: PrepareUploadInput!) {
  prepareUpload(input: $input) {
    __typename
    ... on UploadTicket { endpoint uploadMetadata maxSize checksumAlgorithms expiresInSeconds tusVersion
                          metadata { key value } }
    ... on Error { code message field }
  }
}"""

Gql = Callable[..., Awaitable[dict[str, Any]]]


async def test_ticket_drives_a_tus_upload(gql: Gql, owner: Owner, settings: Settings, http: httpx.AsyncClient,
                                          clip_bytes: bytes) -> None:
    body = await gql(MUTATION, {"input": {"projectId": str(owner.project_id), "filename": "../Pilot\u202e.mp4",
                                          "size": len(clip_bytes)}}, token=owner.token)
    ticket = body["data"]["prepareUpload"]
    assert ticket["__typename"] == "UploadTicket", body
    assert ticket["endpoint"] == f"{settings.public_url}/uploads/"
    assert {m["key"]: m["value"] for m in ticket["metadata"]} == {
        "filename": "Pilot.mp4", "projectId": str(owner.project_id), "kind": "source_video"}
    assert ticket["checksumAlgorithms"] == ["sha1", "sha256"] and ticket["tusVersion"] == "1.0.0"
    created = await http.post("/uploads/", headers=owner.headers(**{
        "Upload-Length": str(len(clip_bytes)), "Upload-Metadata": ticket["uploadMetadata"]}))
    assert created.status_code == 201
    done = await http.patch(created.headers["Location"], content=clip_bytes, headers=owner.headers(
        **{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}))
    assert done.status_code == 204 and done.headers["Recap-Upload-State"] == "completed"


async def test_typed_errors(gql: Gql, owner: Owner, owner_factory: Callable[..., Awaitable[Owner]],
                            settings: Settings) -> None:
    viewer = await owner_factory(Role.VIEWER)
    async with tenant_tx(owner.tenant.id) as conn:
        await QuotaPolicy.create(tenant_id=owner.tenant.id, concurrent_jobs=1, processing_minutes_per_month=1,
                                 storage_bytes=1000, using_db=conn)
    cases = [
        ({"projectId": str(uuid.uuid4()), "filename": "a.mp4"}, owner.token, "NOT_FOUND"),
        ({"projectId": "not-a-uuid", "filename": "a.mp4"}, owner.token, "NOT_FOUND"),
        ({"projectId": str(owner.project_id), "filename": "a.mp4", "size": settings.uploads.max_size_bytes + 1},
         owner.token, "UPLOAD_TOO_LARGE"),
        ({"projectId": str(owner.project_id), "filename": "a.mp4", "size": 1001},
         owner.token, "QUOTA_EXCEEDED"),
        ({"projectId": str(viewer.project_id), "filename": "a.mp4"}, viewer.token, "PERMISSION_DENIED"),
    ]
    for variables, token, code in cases:
        result = (await gql(MUTATION, {"input": variables}, token=token))["data"]["prepareUpload"]
        assert result["code"] == code, (variables, result)
    unauthenticated = await gql(MUTATION, {"input": {"projectId": str(owner.project_id), "filename": "a"}})
    assert unauthenticated["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
