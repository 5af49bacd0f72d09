"""Retention on real storage, PostgreSQL and a worker-built render: dry run first, then the cron's pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.models import Artifact, AuditEvent, DataExport, Job, JobState, Role, Stage, StageRun
from app.services import quota, render, retention
from app.storage import get_storage
from app.storage.keys import export_key

pytestmark = pytest.mark.slow


async def used(tenant_id: Any) -> int:
    async with system_tx() as conn:
        return (await quota.read_quota(conn, tenant_id)).storage_bytes_used


async def test_retention_reports_then_removes_old_data_and_credits_storage(
        settings: Settings, gql: Any, tenant_factory: Any, user_factory: Any, sample_film: Any,
        project_with_assets: Any, run_worker: Any, tmp_path: Path) -> None:
    tenant = await tenant_factory()
    user, token = await user_factory(tenant, Role.ADMIN)
    principal = Principal(user.id, tenant.id, Role.ADMIN)
    storage = get_storage(settings)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    old = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker()
    text = sample_film.script.read_text().replace("At dawn", "Early one morning")
    new = await render.start_render(principal, project.id, render.RenderOptions(profile="source", script_text=text),
                                    settings)
    await run_worker()
    long_ago = datetime.now(UTC) - timedelta(days=10)
    async with system_tx():
        for job_id in (old.id, new.id):
            assert (await Job.get(id=job_id)).state is JobState.SUCCEEDED
        await Job.filter(id=old.id).update(finished_at=long_ago)
        old_job = await Job.get(id=old.id)
        shared = {r.artifact_id for r in await StageRun.filter(job_id=new.id, cached=True)}  # type: ignore[attr-defined]
        exclusive = [a for a in await Artifact.filter(tenant_id=tenant.id) if a.id not in shared and
                     a.id in {r.artifact_id for r in await StageRun.filter(job_id=old.id)}]  # type: ignore[attr-defined]
        export_id = uuid4()
        key = export_key(user.id, export_id)
        (tmp_path / "x.zip").write_bytes(b"PK")
        await storage.put_file(key, tmp_path / "x.zip")
        await DataExport.create(id=export_id, user_id=user.id, state="ready", storage_key=key, size_bytes=2)
        await DataExport.filter(id=export_id).update(created_at=long_ago)
        event = await AuditEvent.create(tenant_id=tenant.id, actor_id=user.id, action="test.old")
        await AuditEvent.filter(id=event.id).update(created_at=long_ago)
    assert exclusive, "the old job's own artifacts (script onwards)"
    before = await used(tenant.id)

    policy = ("mutation { setRetentionPolicy(input: {intermediatesDays: 7, outputsDays: 7, exportsDays: 7, "
              "auditDays: 7}) { __typename ... on RetentionPolicy { outputsDays } } }")
    assert (await gql(policy, token=token))["data"]["setRetentionPolicy"] == {"__typename": "RetentionPolicy",
                                                                              "outputsDays": 7}
    bad = "mutation { setRetentionPolicy(input: {outputsDays: 0}) { __typename } }"
    assert (await gql(bad, token=token))["data"]["setRetentionPolicy"]["__typename"] == "ValidationError"
    preview = (await gql("{ retentionPreview { intermediatesJobs outputsJobs exports auditEvents creditedBytes } }",
                         token=token))["data"]["retentionPreview"]
    charged = quota.charged_bytes(old_job.outputs)
    assert preview == {"intermediatesJobs": 1, "outputsJobs": 1, "exports": 1, "auditEvents": 1,
                       "creditedBytes": str(charged) if isinstance(preview["creditedBytes"], str) else charged}
    assert await storage.stat(old_job.outputs["final.mp4"]["key"]) is not None  # the dry run removed nothing
    assert await used(tenant.id) == before

    from runners.governance import retention_cron

    await retention_cron({"settings": settings, "storage": storage})
    assert await used(tenant.id) == before - charged
    assert await storage.stat(old_job.outputs["final.mp4"]["key"]) is None
    assert await storage.stat(key) is None
    assert [s.key for s in await storage.list(f"intermediate/{old.id}/")] == []
    async with system_tx():
        job = await Job.get(id=old.id)
        assert job.outputs == {} and job.state is JobState.SUCCEEDED  # the history stays
        assert not await Artifact.filter(id__in=[a.id for a in exclusive]).exists()
        for art in await Artifact.filter(id__in=list(shared)):  # still used by the newer job
            assert await storage.stat(f"{art.storage_key}/{art.meta['files'][0]}") is not None
        assert (await Job.get(id=new.id)).outputs
        assert not await DataExport.filter(id=export_id).exists()
        assert not await AuditEvent.filter(id=event.id).exists()
        assert await StageRun.filter(job_id=new.id, stage=Stage.INGEST, artifact_id__not_isnull=True).exists()
    again = await retention.enforce(settings, storage, tenant_id=tenant.id)  # idempotent: nothing more
    assert again.tenants[0].intermediates == 0 and again.tenants[0].outputs == 0
