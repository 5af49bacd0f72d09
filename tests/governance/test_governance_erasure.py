"""Erasure through the API: afterwards no row, file or Redis key holds the account's ids or email."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.models import Artifact, AuditEvent, Job, JobState, Role, StageRun, Upload
from app.services import erasure, export, quota, render
from app.uploads import service as uploads
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.slow


async def rows_naming(needles: list[str]) -> list[str]:
    """``table: row`` for every row of every table whose text names one of ``needles``."""
    found = []
    async with system_tx() as conn:
        tables = [r["t"] for r in await conn.execute_query_dict(
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'")]
        for table in tables:
            rows = await conn.execute_query_dict(f'SELECT x::text AS row FROM "{table}" x')
            found += [f"{table}: {r['row'][:200]}" for r in rows if any(n in r["row"] for n in needles)]
    return found


def files_naming(roots: list[Path], needles: list[str]) -> list[str]:
    found = []
    for root in roots:
        for dirpath, dirs, files in os.walk(root):
            for name in [*dirs, *files]:
                path = os.path.join(dirpath, name)
                if any(n in path for n in needles):
                    found.append(path)
    return found


async def redis_naming(redis: Any, needles: list[str]) -> list[str]:
    raw = [n.encode() for n in needles]
    found = []
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        blobs = [key]
        if kind == "string":
            blobs.append(await redis.get(key) or b"")
        elif kind == "zset":
            blobs += await redis.zrange(key, 0, -1)
        elif kind == "set":
            blobs += list(await redis.smembers(key))
        elif kind == "hash":
            blobs += [b for kv in (await redis.hgetall(key)).items() for b in kv]
        elif kind == "list":
            blobs += await redis.lrange(key, 0, -1)
        if any(n in b for b in blobs for n in raw):
            found.append(key.decode(errors="replace"))
    return found


async def test_delete_account_leaves_nothing_that_names_it(
        settings: Settings, gql: Any, tenant_factory: Any, user_factory: Any, sample_film: Any,
        project_with_assets: Any, run_worker: Any, redis_client: Any) -> None:
    tenant = await tenant_factory()
    user, token = await user_factory(tenant, Role.OWNER)
    principal = Principal(user.id, tenant.id, Role.OWNER)
    # A full account: sessions, a failed login (throttle), a render with every artifact, a queued upload
    # with staging data, a personal-data export, audit events.
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }"
    failed = await gql(login, {"e": user.email, "p": "wrong-password-1"})
    assert failed["data"]["login"]["__typename"] != "AuthPayload"
    signed_in = await gql(login, {"e": user.email, "p": TEST_PASSWORD})
    assert signed_in["data"]["login"]["__typename"] == "AuthPayload"
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker()
    async with system_tx() as conn:
        assert (await Job.get(id=job.id)).state is JobState.SUCCEEDED
        assert await Artifact.filter(tenant_id=tenant.id).count() >= 5
        await quota.add_stored_bytes(conn, tenant.id, 1000)
    upload = await uploads.create_upload_for(tenant.id, user.id, settings, length=10,
                                             metadata={"projectId": str(project.id), "filename": "x.mp4"})
    uploads.part_path(settings, upload.id).write_bytes(b"12345")
    requested = await export.request_data_export(principal, settings)
    await run_worker()
    async with system_tx():
        assert (await export.get_data_export(principal, requested.id, settings))[0].state == "ready"
        stage_ids = [str(r.id) for r in await StageRun.filter(job_id=job.id)]
        audit_before = await AuditEvent.filter(actor_id=user.id).count()
        assert await Upload.filter(id=upload.id).exists()
    assert audit_before >= 2

    wrong = await gql("mutation($p: String!) { deleteAccount(password: $p) { __typename } }", {"p": "nope"},
                      token=token)
    assert wrong["data"]["deleteAccount"]["__typename"] == "UnauthenticatedError"
    gone = await gql("mutation($p: String!) { deleteAccount(password: $p) { __typename "
                     "... on DeleteAccountPayload { deletedId } } }", {"p": TEST_PASSWORD}, token=token)
    assert gone["data"]["deleteAccount"] == {"__typename": "DeleteAccountPayload", "deletedId": str(user.id)}

    subjects = erasure.Subjects(tenant_ids=[tenant.id], user_ids=[user.id], emails=[user.email],
                                other_ids=[project.id, job.id, upload.id, requested.id])
    needles = [*subjects.needles(), *stage_ids]
    assert await rows_naming(needles) == []
    assert files_naming([settings.storage_root, settings.data_dir], needles) == []
    assert await redis_naming(redis_client, needles) == []
    async with system_tx():  # the tombstone: the events stay, pseudonymised
        tomb = await AuditEvent.filter(action="account.erased").order_by("-id").first()
        assert tomb is not None and tomb.target_id == erasure.pseudonym(settings, str(user.id))
        assert await AuditEvent.filter(target_id=erasure.pseudonym(settings, str(user.id))).count() >= 1
        assert erasure.pseudonym(settings, str(tenant.id)) in tomb.data["subjects"]
        assert tomb.data["events_pseudonymised"] >= audit_before


async def test_last_owner_of_a_shared_tenant_cannot_erase_the_account_and_owner_deletes_the_tenant(
        settings: Settings, gql: Any, tenant_factory: Any, user_factory: Any) -> None:
    tenant = await tenant_factory()
    owner, owner_token = await user_factory(tenant, Role.OWNER)
    editor, editor_token = await user_factory(tenant, Role.EDITOR)
    refused = await gql("mutation($p: String!) { deleteAccount(password: $p) { __typename } }",
                        {"p": TEST_PASSWORD}, token=owner_token)
    assert refused["data"]["deleteAccount"]["__typename"] == "ConflictError"
    delete = "mutation($s: String!) { deleteTenant(confirmSlug: $s) { __typename } }"
    denied = await gql(delete, {"s": tenant.slug}, token=editor_token)
    assert denied["data"]["deleteTenant"]["__typename"] == "PermissionDeniedError"
    typo = await gql(delete, {"s": tenant.slug + "x"}, token=owner_token)
    assert typo["data"]["deleteTenant"]["__typename"] == "ValidationError"
    done = await gql(delete, {"s": tenant.slug}, token=owner_token)
    assert done["data"]["deleteTenant"]["__typename"] == "DeleteTenantPayload"
    assert await rows_naming([str(tenant.id), tenant.slug]) == []
    async with system_tx():  # the members keep their accounts
        from app.models import User

        assert await User.filter(id__in=[owner.id, editor.id]).count() == 2
    assert UUID(str(tenant.id))
