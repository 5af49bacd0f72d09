"""deliver: copy the finals to ``outputs/{job_id}/``, record them on the job, count storage.

Not cached (each job gets its own outputs). Storage quota is checked here, while the job runs:
delivering past the tenant's storage limit fails the job with QUOTA_EXCEEDED.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.db import system_tx
from app.models import Job, Stage
from runners.context import StageContext, StageInputError
from runners.stages._io import write_json

DELIVERED = ("final.mp4", "captions.srt", "captions.vtt", "chapters.txt", "thumbnail.jpg", "timeline.otio",
             "timeline.edl", "timeline.xml", "edl.json", "alignment.json", "render.json")


async def input_hash(sc: StageContext) -> str | None:
    return None


async def _charge_storage(sc: StageContext, size: int) -> None:
    async with system_tx() as conn:
        await conn.execute_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", [str(sc.tenant_id)])
        rows = await conn.execute_query_dict("SELECT storage_bytes FROM quota_policies WHERE tenant_id = $1",
                                             [str(sc.tenant_id)])
        limit = int(rows[0]["storage_bytes"]) if rows else sc.settings.quota.storage_bytes
        used = await conn.execute_query_dict(
            "SELECT coalesce(sum(storage_bytes), 0) AS used FROM usage_counters WHERE tenant_id = $1",
            [str(sc.tenant_id)])
        if int(used[0]["used"]) + size > limit:
            raise StageInputError("QUOTA_EXCEEDED", f"delivering {size:,} bytes would pass the storage limit")
        await conn.execute_query(
            "INSERT INTO usage_counters (id, tenant_id, period, processing_seconds, storage_bytes, updated_at) "
            "VALUES (gen_random_uuid(), $1, 'total', 0, $2, now()) ON CONFLICT (tenant_id, period) DO UPDATE "
            "SET storage_bytes = usage_counters.storage_bytes + EXCLUDED.storage_bytes, updated_at = now()",
            [str(sc.tenant_id), size])


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    folder = await sc.upstream(Stage.FINALIZE)
    files = [folder / name for name in DELIVERED if (folder / name).is_file()]
    await _charge_storage(sc, sum(p.stat().st_size for p in files))
    outputs: dict[str, Any] = {}
    for path in files:
        key = f"outputs/{sc.job_id}/{path.name}"
        stat = await sc.storage.put_file(key, path)
        outputs[path.name] = {"key": key, "size": stat.size}
    async with system_tx() as conn:
        await Job.filter(id=sc.job_id).using_db(conn).update(outputs=outputs)
    write_json(out / "delivered.json", outputs)
    return {"outputs": sorted(outputs)}
