"""What deleting a job, an asset or a project removes besides its rows: files, links, work, bytes charged.

Two steps, because files cannot be part of a transaction:

1. ``plan_*`` run inside the caller's transaction, under the tenant's quota lock: they cancel the
   active jobs, collect every storage prefix and key, delete the cache artifacts no other job uses,
   and credit the storage counter with exactly what uploads and deliveries charged. The rows then go
   (the caller deletes them; cascades do the rest), so signed links die with them (a link's owner
   must exist when it is served). :func:`settle` credits the counter and records the purge in
   ``storage_purges``, in the same transaction.
2. :func:`apply` runs after the commit: it tells running stages to stop, deletes the files and
   upload staging, drops queued messages and Redis keys of the jobs. The worker's purge cron runs
   the recorded purge once more after two stage leases when a job was running (a stage mid-write),
   or whenever the first pass failed.

    async with tenant_tx(tenant) as conn:
        removal = await plan_jobs(conn, tenant, [job_id])
        await Job.filter(id=job_id).using_db(conn).delete()
        await settle(conn, removal, settings)
    await apply(removal, settings)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.config import Settings
from app.db import system_tx
from app.events import cancel_key
from app.models import Asset, AssetStatus, Job, JobState, StageRun, StageState, StoragePurge, Upload
from app.models.enums import ACTIVE_JOB_STATES
from app.services import quota
from app.storage import Storage, StorageError, delete_prefix, get_storage
from app.storage.keys import job_prefixes, project_prefix

log = logging.getLogger(__name__)


@dataclass
class Removal:
    """Everything one deletion must remove once its rows are gone."""

    tenant_id: UUID
    prefixes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    upload_ids: list[UUID] = field(default_factory=list)
    job_ids: list[UUID] = field(default_factory=list)
    cancelled: list[UUID] = field(default_factory=list)
    credited: int = 0
    purge_id: int | None = None

    def merge(self, other: Removal) -> Removal:
        for name in ("prefixes", "keys", "upload_ids", "job_ids", "cancelled"):
            mine = getattr(self, name)
            mine.extend(x for x in getattr(other, name) if x not in mine)
        self.credited += other.credited
        return self


async def exclusive_artifacts(conn: Any, job_ids: list[UUID]) -> list[tuple[str, str]]:
    """(id, storage_key) of artifacts that only ``job_ids`` use: cache entries another job uses stay."""
    rows = await conn.execute_query_dict(
        "SELECT a.id::text AS id, a.storage_key FROM artifacts a "
        "WHERE a.id IN (SELECT artifact_id FROM stage_runs WHERE job_id = ANY($1::uuid[])) "
        "AND NOT EXISTS (SELECT 1 FROM stage_runs s WHERE s.artifact_id = a.id AND NOT s.job_id = ANY($1::uuid[]))",
        [[str(j) for j in job_ids]])
    return [(r["id"], r["storage_key"]) for r in rows]


async def cancel_active(conn: Any, job_ids: list[UUID]) -> list[UUID]:
    """Mark the active ones of ``job_ids`` CANCELLED (with their open stage runs); returns their ids."""
    active = [UUID(str(i)) for i in await Job.filter(id__in=job_ids, state__in=list(ACTIVE_JOB_STATES))
              .using_db(conn).select_for_update().values_list("id", flat=True)]
    if active:
        await Job.filter(id__in=active).using_db(conn).update(state=JobState.CANCELLED,
                                                              finished_at=datetime.now(UTC))
        await StageRun.filter(job_id__in=active, state__in=[StageState.PENDING, StageState.QUEUED,
                                                            StageState.RUNNING]).using_db(conn).update(
            state=StageState.CANCELLED)
    return active


async def plan_jobs(conn: Any, tenant_id: UUID, job_ids: list[UUID]) -> Removal:
    """Cancel, collect and un-cache ``job_ids`` (the caller deletes the job rows)."""
    removal = Removal(tenant_id, job_ids=list(job_ids))
    if not job_ids:
        return removal
    await quota.lock_tenant_quota(conn, tenant_id)
    removal.cancelled = await cancel_active(conn, job_ids)
    for job in await Job.filter(id__in=job_ids, tenant_id=tenant_id).using_db(conn):
        removal.credited += quota.charged_bytes(job.outputs)
        removal.prefixes.extend(job_prefixes(job.id))
    artifacts = await exclusive_artifacts(conn, job_ids)
    if artifacts:
        removal.prefixes.extend(f"{key.rstrip('/')}/" for _, key in artifacts)
        await conn.execute_query("DELETE FROM artifacts WHERE id = ANY($1::uuid[])", [[i for i, _ in artifacts]])
    return removal


async def plan_assets(conn: Any, tenant_id: UUID, assets: list[Asset]) -> Removal:
    """Collect the stored files of ``assets`` and credit what their uploads charged (READY ones)."""
    removal = Removal(tenant_id)
    await quota.lock_tenant_quota(conn, tenant_id)
    for asset in assets:
        if asset.storage_key:
            removal.keys.append(asset.storage_key)
        if asset.status is AssetStatus.READY:
            removal.credited += int(asset.size_bytes)
    return removal


async def plan_project(conn: Any, tenant_id: UUID, project_id: UUID) -> Removal:
    """Everything of one project: its jobs (as :func:`plan_jobs`), assets, inputs folder, open uploads."""
    job_ids = [UUID(str(i)) for i in await Job.filter(project_id=project_id, tenant_id=tenant_id)
               .using_db(conn).values_list("id", flat=True)]
    removal = await plan_jobs(conn, tenant_id, job_ids)
    assets = await Asset.filter(project_id=project_id, tenant_id=tenant_id).using_db(conn)
    removal.merge(await plan_assets(conn, tenant_id, list(assets)))
    removal.prefixes.append(project_prefix(tenant_id, project_id))
    removal.upload_ids.extend(UUID(str(i)) for i in await Upload.filter(project_id=project_id)
                              .using_db(conn).values_list("id", flat=True))
    return removal


async def settle(conn: Any, removal: Removal, settings: Settings) -> None:
    """In the deletion's transaction: credit the counter and record the purge durably (``storage_purges``).

    The purge row is the outbox of the file work: :func:`apply` does it right after the commit, and the
    worker's cron does it again once ``not_before`` passes (after two stage leases when a job was running,
    for anything its stage wrote late) or when the first pass failed.
    """
    await quota.lock_tenant_quota(conn, removal.tenant_id)
    await quota.add_stored_bytes(conn, removal.tenant_id, -removal.credited)
    if removal.prefixes or removal.keys:
        delay = settings.worker.lease_seconds * 2 if removal.cancelled else 0
        purge = await StoragePurge.create(tenant_ref=removal.tenant_id, prefixes=removal.prefixes,
                                          keys=removal.keys, not_before=datetime.now(UTC) + timedelta(seconds=delay),
                                          using_db=conn)
        removal.purge_id = purge.id


async def apply(removal: Removal, settings: Settings, storage: Storage | None = None) -> int:
    """After the commit: stop running stages, delete files, staging and Redis state; returns objects deleted.

    A storage failure is logged, not raised: the rows are gone, and the purge row makes the cron finish it.
    """
    from app.redis import get_redis

    redis = get_redis(settings)
    # A running stage sees this within a heartbeat's quarter second; the row is gone, so keep it short-lived.
    for job_id in removal.cancelled:
        await redis.set(cancel_key(job_id), "1", ex=max(5, settings.worker.lease_seconds * 2))
    own = storage is None
    store = storage or get_storage(settings)
    deleted = 0
    try:
        deleted = await remove_files(store, removal)
    except (StorageError, OSError) as ex:
        log.warning("deletion left files for the purge cron (%s): %s", type(ex).__name__, ex)
    else:
        if removal.purge_id is not None and not removal.cancelled:  # nothing can write late: done
            async with system_tx():
                await StoragePurge.filter(id=removal.purge_id).delete()
    finally:
        if own:
            await store.close()
    await _remove_staging(settings, removal.upload_ids)
    await drop_job_messages(redis, removal.job_ids, keep_cancel=removal.cancelled)
    return deleted


async def remove_files(storage: Storage, removal: Removal) -> int:
    """Delete every prefix and key of ``removal`` (idempotent: a missing object is not an error)."""
    deleted = 0
    for prefix in removal.prefixes:
        deleted += await delete_prefix(storage, prefix)
    for key in removal.keys:
        deleted += int(await storage.delete(key))
    return deleted


async def _remove_staging(settings: Settings, upload_ids: list[UUID]) -> None:
    from app.uploads.service import part_path

    def unlink() -> None:
        for upload_id in upload_ids:
            part_path(settings, upload_id).unlink(missing_ok=True)

    if upload_ids:
        await asyncio.to_thread(unlink)


async def drop_job_messages(redis: Any, job_ids: list[UUID], *, keep_cancel: list[UUID] | None = None) -> int:
    """Remove queued stage messages and per-job Redis keys (cancel markers, except ``keep_cancel``)."""
    from app.queue import CPU_QUEUE, GPU_QUEUE

    removed = 0
    keep = {str(j) for j in keep_cancel or []}
    for job_id in map(str, job_ids):
        names = [k async for k in redis.scan_iter(match=f"arq:job:{job_id}:*", count=500)]
        members = [n.decode().removeprefix("arq:job:") for n in names]
        if members:
            for queue in (CPU_QUEUE, GPU_QUEUE):
                await redis.zrem(queue, *members)
            removed += int(await redis.delete(*names))
        if job_id not in keep:
            removed += int(await redis.delete(cancel_key(job_id)))
    return removed


async def sweep_orphan_artifacts(conn: Any, tenant_id: UUID, *, older_than_s: float = 60.0) -> list[str]:
    """Delete artifact rows no stage run points at (a stage that stored after its job was deleted).

    Returns their storage prefixes; the caller deletes the files after the commit.
    """
    rows = await conn.execute_query_dict(
        "DELETE FROM artifacts a WHERE a.tenant_id = $1 AND a.created_at < now() - make_interval(secs => $2) "
        "AND NOT EXISTS (SELECT 1 FROM stage_runs s WHERE s.artifact_id = a.id) RETURNING a.storage_key",
        [str(tenant_id), older_than_s])
    return [f"{r['storage_key'].rstrip('/')}/" for r in rows]
