"""Stage artifacts: content-addressed folders in storage, recorded as ``Artifact`` rows.

A cacheable stage's output lives under ``intermediate/{tenant}/cache/{stage}/{input_hash}/``
so a later job with the same inputs (same movie, new script) reuses it. Files are
uploaded first, then the row is created (get-or-create on the unique key), so a worker
killed mid-way leaves either nothing or a complete artifact, and never two.

    art = await store_artifact(storage, tenant_id, Stage.ANALYSE, h, out_dir)
    local = await fetch_artifact(storage, art, workdir / "analyse")
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from uuid import UUID

from app.db import system_tx
from app.models import Artifact, Stage
from app.storage import Storage


def hash_inputs(*parts: Any) -> str:
    """Stable sha256 of JSON-able parts (versions, options, upstream hashes)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def cache_prefix(tenant_id: UUID, stage: Stage, input_hash: str) -> str:
    return f"intermediate/{tenant_id}/cache/{stage.value}/{input_hash}"


def job_prefix(job_id: UUID, stage: Stage) -> str:
    return f"intermediate/{job_id}/{stage.value}"


async def find_artifact(tenant_id: UUID, stage: Stage, input_hash: str) -> Artifact | None:
    async with system_tx() as conn:
        return await Artifact.filter(tenant_id=tenant_id, stage=stage, content_hash=input_hash).using_db(conn).first()


async def store_artifact(storage: Storage, tenant_id: UUID, stage: Stage, input_hash: str, folder: Path,
                         *, prefix: str | None = None, meta: dict[str, Any] | None = None) -> Artifact:
    prefix = prefix or cache_prefix(tenant_id, stage, input_hash)
    size = 0
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        await storage.put_file(f"{prefix}/{path.relative_to(folder).as_posix()}", path)
        size += path.stat().st_size
    # The stored files always win over a stage's own "files" (finalize lists only its side files): a remote
    # backend fetches exactly this list, so a missing name would be a missing input downstream.
    manifest = {**(meta or {}), "files": [p.relative_to(folder).as_posix() for p in files]}
    async with system_tx() as conn:
        art, _ = await Artifact.get_or_create(
            tenant_id=tenant_id, stage=stage, content_hash=input_hash,
            defaults={"storage_key": prefix, "size_bytes": size, "meta": manifest}, using_db=conn)
    return art


async def artifact_complete(storage: Storage, art: Artifact) -> bool:
    files = art.meta.get("files", [])
    for name in files:
        if await storage.stat(f"{art.storage_key}/{name}") is None:
            return False
    return True


async def fetch_artifact(storage: Storage, art: Artifact, dest: Path) -> Path:
    """A local folder holding the artifact's files (the storage's own folder when it is local)."""
    names: list[str] = list(art.meta.get("files", []))
    local = storage.local_path(art.storage_key)
    if local is not None and all((local / n).is_file() for n in names):
        return local
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            async for chunk in storage.open_range(f"{art.storage_key}/{name}", 0, None):
                fh.write(chunk)
    return dest


async def fetch_key(storage: Storage, key: str, dest: Path) -> Path:
    """A local path for one stored object (downloaded when the backend is remote)."""
    local = storage.local_path(key)
    if local is not None and local.is_file():
        return local
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as fh:
        async for chunk in storage.open_range(key, 0, None):
            fh.write(chunk)
    return dest
