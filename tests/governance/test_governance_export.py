"""Personal-data export through the API and a real worker: a zip with the JSON and the files, a signed link."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.downloads import GrantError, check_owner, verify_token
from app.models import DataExport, Job, JobState, Role, UploadState
from app.services import render

pytestmark = pytest.mark.slow

EXPORT = "mutation { requestDataExport { __typename ... on DataExport { id state downloadUrl } } }"
STATUS = ("query($id: ID!) { dataExport(id: $id) { __typename ... on DataExport { state sizeBytes expiresAt "
          "downloadUrl } } }")


async def test_export_zip_holds_the_account_its_work_and_its_files(
        settings: Settings, gql: Any, client: Any, tenant_factory: Any, user_factory: Any, sample_film: Any,
        project_with_assets: Any, run_worker: Any) -> None:
    tenant = await tenant_factory()
    user, token = await user_factory(tenant, Role.OWNER)
    principal = Principal(user.id, tenant.id, Role.OWNER)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    async with system_tx():  # the fixture stores assets directly: record them as this user's uploads
        from app.models import Asset, Project, Upload

        await Project.filter(id=project.id).update(created_by_id=user.id)
        for asset in await Asset.filter(project_id=project.id):
            await Upload.create(tenant_id=tenant.id, project_id=project.id, user_id=user.id, kind=asset.kind,
                                state=UploadState.COMPLETED, filename=asset.filename, storage_key=asset.storage_key,
                                asset_id=asset.id, expires_at=asset.created_at)
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker()

    queued = (await gql(EXPORT, token=token))["data"]["requestDataExport"]
    assert queued["__typename"] == "DataExport" and queued["state"] == "queued" and queued["downloadUrl"] is None
    again = (await gql(EXPORT, token=token))["data"]["requestDataExport"]
    assert again["id"] == queued["id"]  # one at a time
    await run_worker()
    status = (await gql(STATUS, {"id": queued["id"]}, token=token))["data"]["dataExport"]
    assert status["state"] == "ready" and int(status["sizeBytes"]) > 0 and status["expiresAt"]
    path = status["downloadUrl"].split("/downloads/", 1)[1]
    response = await client.get(f"/downloads/{path}")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = set(zf.namelist())
        document = json.loads(zf.read("account.json"))
        movie_name = next(n for n in names if n.startswith("files/inputs/") and n.endswith(".mp4"))
        assert zf.read(movie_name) == sample_film.movie.read_bytes()
    assert document["account"]["email"] == user.email
    assert [m["tenant_id"] for m in document["memberships"]] == [str(tenant.id)]
    assert [p["id"] for p in document["projects"]] == [str(project.id)]
    assert [j["id"] for j in document["jobs"]] == [str(job.id)]
    assert {f"files/outputs/{job.id}/final.mp4", "account.json"} <= names
    assert len(document["assets"]) == 2
    assert any(e["action"] == "data.export_requested" for e in document["audit_events"])
    async with system_tx():
        assert (await Job.get(id=job.id)).state is JobState.SUCCEEDED

    # Another user cannot see it; the link dies with the export's expiry.
    _, stranger = await user_factory(tenant, Role.OWNER)
    assert (await gql(STATUS, {"id": queued["id"]}, token=stranger))["data"]["dataExport"] == {
        "__typename": "NotFoundError"}
    grant = verify_token(settings, path)
    async with system_tx():
        await DataExport.filter(id=queued["id"]).update(expires_at=grant_expired())
    with pytest.raises(GrantError):
        await check_owner(grant)


def grant_expired() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(seconds=1)


async def test_large_files_become_signed_links(settings: Settings, tenant_factory: Any, user_factory: Any,
                                               sample_film: Any, project_with_assets: Any) -> None:
    from app.services import export
    from app.storage import get_storage

    tenant = await tenant_factory()
    user, _ = await user_factory(tenant, Role.OWNER)
    principal = Principal(user.id, tenant.id, Role.OWNER)
    project = await project_with_assets(principal, [sample_film.movie])
    async with system_tx():
        from app.models import Asset, Upload

        asset = await Asset.get(project_id=project.id)
        await Upload.create(tenant_id=tenant.id, project_id=project.id, user_id=user.id, kind=asset.kind,
                            state=UploadState.COMPLETED, filename=asset.filename, storage_key=asset.storage_key,
                            asset_id=asset.id, expires_at=asset.created_at)
    small = settings.model_copy(update={"governance": settings.governance.model_copy(
        update={"export_inline_max_bytes": 1000})})
    row = await export.request_data_export(principal, small)
    storage = get_storage(small)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        done = await export.build_export(storage, row.id, Path(tmp), small)
    assert done is not None and done.state == "ready"
    local = storage.local_path(done.storage_key or "")
    assert local is not None
    with zipfile.ZipFile(local) as zf:
        document = json.loads(zf.read("account.json"))
        assert not [n for n in zf.namelist() if n.startswith("files/")]
    (link,) = document["links"]
    grant = verify_token(small, link["url"].split("/downloads/", 1)[1])
    assert grant.key == asset.storage_key
    await check_owner(grant)  # a live link to the asset itself (tenant-bound, revoked with the asset)
