"""Deletion and storage accounting on real PostgreSQL, Redis, local storage, ARQ workers and media.

Deleting a job, an asset or a project removes its files, revokes its links, cancels its work and credits
the storage counter; delivery charges once however often it runs; every storage check takes one lock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from asyncpg.exceptions import LockNotAvailableError

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx, tenant_tx
from app.downloads import GrantError, check_owner, sign_download, verify_token
from app.models import Artifact, Asset, Job, JobState, Project, Role, Stage, StageRun, StageState, StoragePurge
from app.services import deletion, projects, quota, render
from app.storage import Storage, get_storage
from app.storage.keys import job_prefixes, project_prefix
from app.uploads import service as uploads

pytestmark = pytest.mark.slow


async def stored_bytes(tenant_id: UUID) -> int:
    async with system_tx() as conn:
        return (await quota.read_quota(conn, tenant_id)).storage_bytes_used


async def charge_uploads(project: Project) -> int:
    """What upload completion charges for the fixture's (directly stored) assets."""
    async with system_tx() as conn:
        size = sum(a.size_bytes for a in await Asset.filter(project_id=project.id))
        await quota.add_stored_bytes(conn, project.tenant_id, size)  # type: ignore[attr-defined]
    return size


async def files_under(storage: Storage, prefixes: list[str]) -> list[str]:
    found: list[str] = []
    for prefix in prefixes:
        found += [s.key for s in await storage.list(prefix)]
    return found


def project_prefixes(tenant_id: UUID, project_id: UUID, job_ids: list[UUID]) -> list[str]:
    return [project_prefix(tenant_id, project_id), *(p for j in job_ids for p in job_prefixes(j))]


async def render_done(settings: Settings, principal: Principal, project: Project, run_worker: Any) -> Job:
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker()
    async with system_tx():
        done = await Job.get(id=job.id)
    assert done.state is JobState.SUCCEEDED, (done.error_code, done.error_message)
    return done


async def test_delivery_charges_once_however_often_it_runs(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        run_worker: Any) -> None:
    principal, _ = await principal_factory(Role.OWNER)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    inputs = await charge_uploads(project)
    job = await render_done(settings, principal, project, run_worker)
    outputs = quota.charged_bytes(job.outputs)
    assert outputs > 0
    assert await stored_bytes(principal.tenant_id) == inputs + outputs

    # ARQ may run a stage again (and a retry does): deliver twice more, the counter does not move.
    from app.queue import enqueue_stage

    for attempt in (7, 8):
        async with system_tx():
            await Job.filter(id=job.id).update(state=JobState.RUNNING, finished_at=None)
            await StageRun.filter(job_id=job.id, stage=Stage.DELIVER).update(state=StageState.QUEUED)
        await enqueue_stage(job.id, Stage.DELIVER, attempt=attempt, settings=settings)
        await run_worker()
        async with system_tx():
            again = await Job.get(id=job.id)
            run = await StageRun.get(job_id=job.id, stage=Stage.DELIVER)
        assert again.state is JobState.SUCCEEDED and run.attempt >= 2
        assert await stored_bytes(principal.tenant_id) == inputs + outputs


async def test_every_storage_check_waits_for_the_one_tenant_lock(
        settings: Settings, principal_factory: Any, project_with_assets: Any) -> None:
    """An upload's quota check, a project creation and a delivery's charge all queue behind one lock."""
    principal, _ = await principal_factory(Role.OWNER)
    project = await project_with_assets(principal, [])
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with tenant_tx(principal.tenant_id) as conn:
            await quota.lock_tenant_quota(conn, principal.tenant_id)
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await held.wait()
    checks = {
        "upload": lambda conn: uploads._check_quota(conn, principal.tenant_id, 10, settings),
        "delivery": lambda conn: quota.ensure_storage_fits(conn, principal.tenant_id, 10),
        "deletion": lambda conn: deletion.settle(conn, deletion.Removal(principal.tenant_id), settings),
    }
    for name, check in checks.items():
        with pytest.raises(LockNotAvailableError):  # it waited on the held lock
            async with tenant_tx(principal.tenant_id) as conn:
                await conn.execute_query("SET LOCAL lock_timeout = '300ms'")
                await check(conn)
                pytest.fail(f"the {name} check did not wait for the tenant's quota lock")
    release.set()
    await holder
    async with tenant_tx(principal.tenant_id) as conn:
        await uploads._check_quota(conn, principal.tenant_id, 10, settings)
    assert project.id


async def test_deleting_an_asset_removes_its_file_link_and_bytes(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any) -> None:
    principal, _ = await principal_factory(Role.OWNER)
    before = await stored_bytes(principal.tenant_id)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    await charge_uploads(project)
    storage = get_storage(settings)
    async with system_tx():
        asset = await Asset.filter(project_id=project.id, kind="source_video").first()
    assert asset is not None
    token = sign_download(settings, tenant_id=principal.tenant_id, owner=("asset", asset.id), key=asset.storage_key)
    grant = verify_token(settings, token.rsplit("/", 1)[-1])
    await check_owner(grant)
    await projects.delete_asset(principal, asset.id, settings=settings)
    assert await storage.stat(asset.storage_key) is None
    with pytest.raises(GrantError) as gone:
        await check_owner(grant)
    assert gone.value.status == 404
    async with system_tx():
        script = await Asset.get(project_id=project.id)
    assert await stored_bytes(principal.tenant_id) == before + script.size_bytes


async def test_deleting_a_project_removes_its_files_and_keeps_a_shared_cache_entry(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        run_worker: Any) -> None:
    principal, _ = await principal_factory(Role.OWNER)
    storage = get_storage(settings)
    baseline = await stored_bytes(principal.tenant_id)
    first = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    await charge_uploads(first)
    job_a = await render_done(settings, principal, first, run_worker)
    between = await stored_bytes(principal.tenant_id)
    second = await project_with_assets(principal, [sample_film.movie], sample_film.script)  # same movie
    await charge_uploads(second)
    job_b = await render_done(settings, principal, second, run_worker)
    async with system_tx():
        shared = {r.stage: r.artifact_id for r in await StageRun.filter(job_id=job_b.id, cached=True)}  # type: ignore[attr-defined]
        shared_arts = await Artifact.filter(id__in=list(shared.values()))
    assert Stage.INGEST in shared and shared_arts
    link = sign_download(settings, tenant_id=principal.tenant_id, owner=("job", job_a.id),
                         key=job_a.outputs["final.mp4"]["key"])
    grant = verify_token(settings, link.rsplit("/", 1)[-1])
    await check_owner(grant)
    prefixes_a = project_prefixes(principal.tenant_id, first.id, [job_a.id])
    assert await files_under(storage, prefixes_a)

    await projects.delete_project(principal, first.id, settings=settings)

    assert await files_under(storage, prefixes_a) == []
    with pytest.raises(GrantError):
        await check_owner(grant)
    for art in shared_arts:  # still used by the other project: kept, complete
        for name in art.meta["files"]:
            assert await storage.stat(f"{art.storage_key}/{name}") is not None, (art.stage, name)
    assert await stored_bytes(principal.tenant_id) == baseline + (between - baseline)  # B's share only
    async with system_tx():
        assert not await Job.filter(id=job_a.id).exists()
        assert not await StoragePurge.filter(tenant_ref=principal.tenant_id).exists()  # done, nothing left

    await projects.delete_project(principal, second.id, settings=settings)
    assert await stored_bytes(principal.tenant_id) == baseline
    assert await files_under(storage, [f"intermediate/{principal.tenant_id}/",
                                       *project_prefixes(principal.tenant_id, second.id, [job_b.id])]) == []
    async with system_tx():
        assert not await Artifact.filter(tenant_id=principal.tenant_id).exists()


async def test_deleting_a_project_mid_render_cancels_the_work_and_the_purge_cron_finishes(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        run_worker: Any) -> None:
    from runners.governance import run_due_purges

    principal, _ = await principal_factory(Role.OWNER)
    storage = get_storage(settings)
    baseline = await stored_bytes(principal.tenant_id)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    await charge_uploads(project)
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    worker = asyncio.create_task(run_worker())
    for _ in range(4000):
        async with system_tx():
            runs = {r.stage: r.state for r in await StageRun.filter(job_id=job.id)}
        if runs.get(Stage.ANALYSE) is StageState.RUNNING or runs.get(Stage.TRANSCRIBE) is StageState.RUNNING:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the media stages never started")
    await projects.delete_project(principal, project.id, settings=settings)
    await asyncio.wait_for(worker, 240)  # the worker stops the cancelled stages and the queue drains
    async with system_tx():
        pending = await StoragePurge.filter(tenant_ref=principal.tenant_id)
        assert pending, "a running job leaves a deferred purge for what its stage may write late"
        await StoragePurge.filter(tenant_ref=principal.tenant_id).update(not_before=datetime(2000, 1, 1, tzinfo=UTC))
    await run_due_purges({"storage": storage}, orphan_grace_s=0.0)
    prefixes = [*project_prefixes(principal.tenant_id, project.id, [job.id]), f"intermediate/{principal.tenant_id}/"]
    assert await files_under(storage, prefixes) == []
    async with system_tx():
        assert not await Artifact.filter(tenant_id=principal.tenant_id).exists()
        assert not await StoragePurge.filter(tenant_ref=principal.tenant_id).exists()
    assert await stored_bytes(principal.tenant_id) == baseline
