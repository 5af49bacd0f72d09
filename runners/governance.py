"""Data-governance tasks of the CPU worker: durable purges after deletions, exports, retention.

Registered on the worker by :data:`FUNCTIONS` and :data:`CRONS` (runners/worker.py adds them).

    await run_due_purges(ctx)      # the purge cron: storage_purges rows whose not_before has passed
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
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


def _functions() -> list[Any]:
    return []


FUNCTIONS: list[Any] = _functions()
CRONS: list[Any] = [cron(purge_cron, second={20}, run_at_startup=True)]
