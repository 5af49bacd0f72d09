"""What a stage sees while it runs: its claim, a work folder, storage, models, progress and cancel.

    async def run(sc: StageContext, out: Path) -> dict[str, Any]:
        src = await sc.upstream(Stage.INGEST)
        await sc.in_thread(work, src, out, progress=sc.progress, cancel=sc.cancelled)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from app.config import Settings
from app.db import system_tx
from app.models import Artifact, Asset, AssetKind, AssetStatus, Job, Stage, StageRun
from app.storage import Storage
from runners.artifacts import fetch_artifact, fetch_key
from runners.models import ModelCache
from runners.progress import ProgressReporter
from runners.state import Claim

T = TypeVar("T")


class StageInputError(Exception):
    """A stage's inputs are missing or invalid; carries a stable code (not retried)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class StageContext:
    claim: Claim
    settings: Settings
    storage: Storage
    models: ModelCache
    workdir: Path
    reporter: ProgressReporter
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _upstream: dict[Stage, Path] = field(default_factory=dict)
    #: Units of work reported so far (progress calls from the media loop).
    units: int = 0
    #: The unit at which the media loop first saw the cancel flag (None: never saw it).
    cancel_seen_at: int | None = None
    #: Units of work reported after the cancel was seen (0 when the loop stopped at once).
    units_after_cancel: int = 0

    @property
    def job_id(self) -> UUID:
        return self.claim.job_id

    @property
    def tenant_id(self) -> UUID:
        return self.claim.tenant_id

    @property
    def options(self) -> dict[str, Any]:
        return self.claim.options

    def progress(self, fraction: float) -> None:
        self.units += 1
        if self.cancel_seen_at is not None:
            self.units_after_cancel += 1
        self.reporter.progress(fraction)

    def cancelled(self) -> bool:
        """The media loop's cancel hook: also records the unit of work at which the cancel was seen."""
        if not self.cancel_event.is_set():
            return False
        if self.cancel_seen_at is None:
            self.cancel_seen_at = self.units
        return True

    def cancel_report(self) -> str:
        """Where the work stopped, for the stage run's message."""
        if self.cancel_seen_at is None:
            return "the media loop never saw the cancel"
        return f"cancel seen at unit {self.cancel_seen_at}; {self.units_after_cancel} units after it"

    async def in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Blocking media work off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def upstream_artifact(self, stage: Stage) -> Artifact:
        async with system_tx() as conn:
            run = await StageRun.filter(job_id=self.job_id, stage=stage).using_db(conn).first()
            art = None if run is None or run.artifact_id is None else (  # type: ignore[attr-defined]
                await Artifact.filter(id=run.artifact_id).using_db(conn).first())  # type: ignore[attr-defined]
        if art is None:
            raise StageInputError("UPSTREAM_MISSING", f"stage {stage.value} has no artifact")
        return art

    async def upstream(self, stage: Stage) -> Path:
        """A local folder with the files that ``stage`` produced for this job."""
        if stage not in self._upstream:
            art = await self.upstream_artifact(stage)
            self._upstream[stage] = await fetch_artifact(self.storage, art, self.workdir / "in" / stage.value)
        return self._upstream[stage]

    async def assets(self, kind: AssetKind) -> list[Asset]:
        async with system_tx() as conn:
            query = Asset.filter(project_id=self.claim.project_id, kind=kind, status=AssetStatus.READY)
            return list(await query.using_db(conn).order_by("created_at", "id"))

    async def asset(self, asset_id: str) -> Asset | None:
        async with system_tx() as conn:
            return await Asset.filter(id=asset_id, project_id=self.claim.project_id).using_db(conn).first()

    async def source_assets(self) -> list[Asset]:
        wanted = self.options.get("source_asset_ids")
        if wanted:
            found = [await self.asset(str(a)) for a in wanted]
            assets = [a for a in found if a is not None and a.status is AssetStatus.READY]
        else:
            assets = await self.assets(AssetKind.SOURCE_VIDEO)
        if not assets:
            raise StageInputError("NO_SOURCE", "the project has no ready source video")
        return assets

    async def local_asset(self, asset: Asset) -> Path:
        suffix = Path(asset.filename).suffix[:10] if asset.filename else ""
        return await fetch_key(self.storage, asset.storage_key, self.workdir / "assets" / f"{asset.id}{suffix}")

    async def job(self) -> Job:
        async with system_tx() as conn:
            return await Job.get(id=self.job_id, using_db=conn)
