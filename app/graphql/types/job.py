"""Render jobs and their stage runs (read side; the runners write them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app import models
from app.graphql.context import RecapContext
from app.graphql.dataloaders import loaders
from app.graphql.pagination import Connection
from app.graphql.types.enums import JobState, Stage, StageState


@strawberry.type(description="One pipeline stage of a job.")
class StageRun:
    stage: Stage
    state: StageState
    attempt: int
    progress: float
    message: str
    error_code: str | None
    error_message: str | None
    cached: bool = strawberry.field(description="The stage's artifact came from the content-hash cache.")
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_model(cls, run: models.StageRun) -> StageRun:
        return cls(stage=run.stage, state=run.state, attempt=run.attempt, progress=run.progress,
                   message=run.message, error_code=run.error_code, error_message=run.error_message,
                   cached=run.cached, started_at=run.started_at, finished_at=run.finished_at)


@strawberry.type(description="A delivered file: a signed link that expires (Range requests supported).")
class Download:
    name: str
    size: int
    url: str


@strawberry.type
class Job:
    id: strawberry.ID
    project_id: strawberry.ID
    state: JobState
    progress: float = strawberry.field(description="0..1 over the whole pipeline.")
    current_stage: Stage | None
    seq: int = strawberry.field(description="Number of the last progress event (clients drop older events).")
    error_code: str | None
    error_message: str | None
    options: JSON
    outputs: JSON = strawberry.field(description="Output names to storage keys once delivered.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @strawberry.field(description="Stage runs in pipeline order.")
    async def stages(self, info: Info[RecapContext, Any]) -> list[StageRun]:
        from uuid import UUID

        runs = await loaders(info).stages.load(UUID(str(self.id)))
        return [StageRun.from_model(run) for run in runs]

    @strawberry.field(description="Signed, expiring links to the delivered files (empty until delivered).")
    def downloads(self, info: Info[RecapContext, Any], expires_in: int = 3600) -> list[Download]:
        from uuid import UUID

        from app.downloads import MAX_TTL_S, sign_download

        principal = info.context.principal()
        ttl = max(60, min(expires_in, MAX_TTL_S))
        outputs = self.outputs if isinstance(self.outputs, dict) else {}
        return [Download(name=name, size=int(item.get("size", 0)), url=sign_download(
                    info.context.settings, tenant_id=principal.tenant_id, owner=("job", UUID(str(self.id))),
                    key=str(item["key"]), filename=name, expires_in=ttl))
                for name, item in sorted(outputs.items()) if isinstance(item, dict) and "key" in item]

    @classmethod
    def from_model(cls, job: models.Job) -> Job:
        return cls(id=strawberry.ID(str(job.id)), project_id=strawberry.ID(str(job.project_id)),  # type: ignore[attr-defined]
                   state=job.state, progress=job.progress, current_stage=job.current_stage, seq=job.seq,
                   error_code=job.error_code, error_message=job.error_message, options=job.options,
                   outputs=job.outputs, created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, updated_at=job.updated_at)


@strawberry.type(name="JobConnection", description="A page of jobs (newest first).")
class JobConnection(Connection[Job]):
    pass
