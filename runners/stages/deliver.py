"""deliver: copy the finals to ``outputs/{job_id}/``, record them on the job, count storage.

Not cached (each job gets its own outputs). Storage quota is checked here, while the job runs:
delivering past the tenant's storage limit fails the job with QUOTA_EXCEEDED.

Idempotent: the bytes charged to the tenant's storage counter for a job are exactly the sizes
recorded in ``Job.outputs``, and the outputs and the charge change in one transaction under the
tenant's quota lock (:func:`app.services.quota.lock_tenant_quota`, the one uploads take). A re-run
charges only the difference (nothing when the finals are the same); a worker killed after copying
and before recording leaves files that the next run overwrites and charges once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.db import system_tx
from app.errors import QuotaExceededError
from app.models import Job, Stage
from app.services import quota
from app.storage import delete_prefix
from runners.context import StageContext, StageInputError
from runners.stages._io import write_json

DELIVERED = ("final.mp4", "captions.srt", "captions.vtt", "chapters.txt", "thumbnail.jpg", "timeline.otio",
             "timeline.edl", "timeline.xml", "edl.json", "alignment.json", "render.json")


async def input_hash(sc: StageContext) -> str | None:
    return None


async def _fits(sc: StageContext, size: int, *, record: dict[str, Any] | None = None) -> None:
    """Check (and with ``record``: charge and record) ``size`` bytes of outputs against the quota, once."""
    async with system_tx() as conn:
        await quota.lock_tenant_quota(conn, sc.tenant_id)
        job = await Job.filter(id=sc.job_id).using_db(conn).select_for_update().first()
        if job is None:
            raise StageInputError("NOT_FOUND", "the job was deleted while it was delivered")
        delta = size - quota.charged_bytes(job.outputs)
        try:
            if delta > 0:
                await quota.ensure_storage_fits(conn, sc.tenant_id, delta, defaults=sc.settings.quota)
        except QuotaExceededError as ex:
            raise StageInputError("QUOTA_EXCEEDED", f"delivering {size:,} bytes would pass the storage limit: "
                                  f"{ex}") from ex
        if record is not None:
            await quota.add_stored_bytes(conn, sc.tenant_id, delta)
            await Job.filter(id=sc.job_id).using_db(conn).update(outputs=record)


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    folder = await sc.upstream(Stage.FINALIZE)
    files = [folder / name for name in DELIVERED if (folder / name).is_file()]
    await _fits(sc, sum(p.stat().st_size for p in files))  # refuse before copying gigabytes
    outputs: dict[str, Any] = {}
    for path in files:
        key = f"outputs/{sc.job_id}/{path.name}"
        stat = await sc.storage.put_file(key, path)
        outputs[path.name] = {"key": key, "size": stat.size}
    try:
        await _fits(sc, quota.charged_bytes(outputs), record=outputs)
    except StageInputError as ex:
        if ex.code == "QUOTA_EXCEEDED":  # another upload took the headroom meanwhile: leave nothing behind
            await _withdraw(sc)
        raise
    write_json(out / "delivered.json", outputs)
    return {"outputs": sorted(outputs)}


async def _withdraw(sc: StageContext) -> None:
    """Remove the job's outputs and credit what an earlier run had charged for them."""
    await delete_prefix(sc.storage, f"outputs/{sc.job_id}/")
    async with system_tx() as conn:
        await quota.lock_tenant_quota(conn, sc.tenant_id)
        job = await Job.filter(id=sc.job_id).using_db(conn).select_for_update().first()
        if job is not None:
            await quota.add_stored_bytes(conn, sc.tenant_id, -quota.charged_bytes(job.outputs))
            await Job.filter(id=sc.job_id).using_db(conn).update(outputs={})
