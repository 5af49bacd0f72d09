"""Types of the render domain: job payloads, the alignment, progress events."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from app.events import ProgressEvent as Event
from app.graphql.types.job import Job


@strawberry.type
class JobPayload:
    job: Job


@strawberry.type(description="The alignment contract (ARCHITECTURE.md): sources and beats with their clips.")
class AlignmentPayload:
    job_id: strawberry.ID
    edited: bool
    alignment: JSON


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
