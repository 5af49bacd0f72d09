"""Data-governance tasks of the CPU worker: durable purges after deletions, exports, retention.

Registered on the worker by :data:`FUNCTIONS` and :data:`CRONS` (runners/worker.py adds them).

    await run_due_purges(ctx)      # the purge cron: storage_purges rows whose not_before has passed
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from arq import cron

from app.db import system_tx
from app.models import StoragePurge
from app.services import deletion
from app.storage import StorageError

log = logging.getLogger(__name__)

#: Purges taken per cron tick; a failed one waits ``attempts`` minutes before the next try.
PURGE_BATCH = 50


async def run_due_purges(ctx: dict[str, Any], *, orphan_grace_s: float = 60.0) -> int:
    """Remove what due ``storage_purges`` rows name (plus artifacts no stage run uses); returns rows done."""
    done = 0
    async with system_tx() as conn:
        due = await (StoragePurge.filter(not_before__lte=datetime.now(UTC)).using_db(conn)
                     .order_by("not_before").limit(PURGE_BATCH).select_for_update(skip_locked=True))
        for purge in due:
            removal = deletion.Removal(purge.tenant_ref or UUID(int=0), prefixes=list(purge.prefixes),
                                       keys=list(purge.keys))
            if purge.tenant_ref is not None:
                removal.prefixes += await deletion.sweep_orphan_artifacts(conn, purge.tenant_ref,
                                                                         older_than_s=orphan_grace_s)
            try:
                await deletion.remove_files(ctx["storage"], removal)
            except (StorageError, OSError) as ex:
                purge.attempts += 1
                purge.not_before = datetime.now(UTC) + timedelta(minutes=min(60, purge.attempts))
                await purge.save(using_db=conn, update_fields=["attempts", "not_before"])
                log.warning("purge %s failed (attempt %d), retrying later: %s", purge.id, purge.attempts, ex)
                continue
            await StoragePurge.filter(id=purge.id).using_db(conn).delete()
            done += 1
    return done


async def purge_cron(ctx: dict[str, Any]) -> None:
    await run_due_purges(ctx)


async def export_data(ctx: dict[str, Any], export_id: str, tenant_id: str) -> str:
    """Build a personal-data export, then tell the user's tenant (webhook ``data_export.ready``)."""
    from app.services import export as exports

    workdir = Path(tempfile.mkdtemp(prefix="recap-export-", dir=ctx.get("workroot")))
    try:
        done = await exports.build_export(ctx["storage"], UUID(export_id), workdir, ctx["settings"])
    except (StorageError, OSError) as ex:
        log.warning("export %s failed: %s", export_id, ex)
        await exports.fail_export(UUID(export_id), getattr(ex, "code", "STORAGE_ERROR"))
        return "failed"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if done is None or done.state != "ready":
        return "skipped"
    await _notify(ctx, UUID(tenant_id), {"event": "data_export.ready", "export_id": export_id,
                                         "user_id": str(done.user_id)})  # type: ignore[attr-defined]
    return "ready"


async def _notify(ctx: dict[str, Any], tenant_id: UUID, payload: dict[str, Any]) -> None:
    """The tenant's webhook (the job-finished mechanism of runners.notify); no link: the user fetches it."""
    import asyncio

    from app.models import Tenant
    from runners.notify import deliver_webhook

    async with system_tx() as conn:
        tenant = await Tenant.filter(id=tenant_id).using_db(conn).first()
    if tenant is None or not tenant.webhook_url:
        return
    task = asyncio.create_task(deliver_webhook(tenant.webhook_url, tenant.webhook_secret or "", payload))
    ctx.setdefault("background", set()).add(task)
    task.add_done_callback(ctx["background"].discard)


async def retention_cron(ctx: dict[str, Any]) -> dict[str, Any]:
    """Enforce every tenant's retention policy (a dry run only reports: RECAP_GOVERNANCE__RETENTION_DRY_RUN)."""
    import json

    from app.services import retention

    report = await retention.enforce(ctx["settings"], ctx["storage"])
    log.info("retention %s: %s", "dry run" if report.dry_run else "applied", json.dumps(report.to_json()))
    return report.to_json()


def _functions() -> list[Any]:
    from arq.worker import func

    return [func(export_data, name="export_data", max_tries=3, keep_result=0)]


FUNCTIONS: list[Any] = _functions()
CRONS: list[Any] = [cron(purge_cron, second={20}, run_at_startup=True),
                    cron(retention_cron, minute={41}, second=30)]
