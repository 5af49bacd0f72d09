"""Expired uploads: mark them EXPIRED and delete their partial data (and orphaned staging files).

Run it periodically (a worker cron, or ``recap`` maintenance); it is idempotent.

    report = await clean_expired_uploads(settings)
    report.expired, report.files_removed
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from app.config import Settings
from app.db import system_tx
from app.models import Upload, UploadState
from app.uploads import service

#: Staging files younger than this are never treated as orphans (their row may be committing).
ORPHAN_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class CleanupReport:
    expired: int
    files_removed: int


def _remove_files(settings: Settings, ids: list[UUID], now: datetime, live: set[str]) -> int:
    removed = 0
    for upload_id in ids:
        path = service.part_path(settings, upload_id)
        if path.exists():
            path.unlink()
            removed += 1
    folder = service.staging_dir(settings)
    if not folder.is_dir():
        return removed
    for path in folder.glob("*.part"):
        old = now.timestamp() - path.stat().st_mtime > ORPHAN_GRACE.total_seconds()
        if path.stem not in live and old:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def clean_expired_uploads(settings: Settings, *, now: datetime | None = None) -> CleanupReport:
    """Expire open uploads past ``expires_at``; remove their staging files and orphans."""
    moment = now or service.now()
    async with system_tx() as conn:  # every tenant: a maintenance task
        expired = await Upload.filter(state__in=list(service.OPEN_STATES), expires_at__lte=moment) \
            .using_db(conn).select_for_update().values_list("id", flat=True)
        ids = [UUID(str(i)) for i in expired]
        if ids:
            await Upload.filter(id__in=ids).using_db(conn).update(state=UploadState.EXPIRED)
        live = {str(i) for i in await Upload.filter(state__in=list(service.OPEN_STATES)).using_db(conn)
                .values_list("id", flat=True)}
    for upload_id in ids:
        service.drop_hasher(upload_id)
    removed = await asyncio.to_thread(_remove_files, settings, ids, moment, live)
    return CleanupReport(len(ids), removed)
