"""Types of the render domain: job payloads, the alignment, progress events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.events import ProgressEvent as Event
from app.graphql.context import RecapContext
from app.graphql.types.job import Job


@strawberry.type
class JobPayload:
    job: Job


@strawberry.type(description="The alignment contract (ARCHITECTURE.md): sources and beats with their clips.")
class AlignmentPayload:
    job_id: strawberry.ID
    edited: bool
    alignment: JSON

    @strawberry.field(description="The alignment's sources (`s0`, `s1`...) as playable signed links "
                                  "(Range requests; append `#t=start,end` to play one clip).")
    async def media(self, info: Info[RecapContext, Any], expires_in: int = 3600) -> list[SourceMedia]:
        from app.downloads import MAX_TTL_S, sign_download
        from app.services.review import job_source_assets

        principal = info.context.principal()
        ttl = max(60, min(expires_in, MAX_TTL_S))
        assets = await job_source_assets(principal, UUID(str(self.job_id)))
        return [SourceMedia(source_id=f"s{i}", asset_id=strawberry.ID(str(a.id)), filename=a.filename,
                            url=sign_download(info.context.settings, tenant_id=principal.tenant_id,
                                              owner=("asset", a.id), key=a.storage_key, filename=a.filename,
                                              expires_in=ttl))
                for i, a in enumerate(assets)]


@strawberry.type(description="One source of an alignment with a signed, expiring link to play it.")
class SourceMedia:
    source_id: str
    asset_id: strawberry.ID
    filename: str
    url: str


@strawberry.type(description="A progress event. `seq` grows per job: drop events you have seen. "
                             "`kind` is snapshot (current state from the database), progress, stage, job or "
                             "resync (the event stream reconnected; a snapshot follows).")
class ProgressEvent:
    job_id: strawberry.ID
    project_id: strawberry.ID
    seq: int
    kind: str
    stage: str | None
    state: str
    progress: float
    message: str
    at: str
    stages: JSON | None = strawberry.field(default=None, description="On snapshots: every stage's state.")

    @classmethod
    def from_event(cls, event: Event, stages: JSON | None = None) -> ProgressEvent:
        return cls(job_id=strawberry.ID(event.job_id), project_id=strawberry.ID(event.project_id), seq=event.seq,
                   kind=event.kind, stage=event.stage, state=event.state, progress=event.progress,
                   message=event.message, at=event.at, stages=stages)
