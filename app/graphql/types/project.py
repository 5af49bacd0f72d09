"""Projects and their assets."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app import models
from app.graphql.context import RecapContext
from app.graphql.dataloaders import JobsKey, loaders
from app.graphql.pagination import connection, decode_cursor
from app.graphql.types.enums import AssetKind, AssetStatus
from app.graphql.types.job import Job, JobConnection
from app.graphql.types.scalars import BigInt


@strawberry.type
class Asset:
    id: strawberry.ID
    project_id: strawberry.ID
    kind: AssetKind
    status: AssetStatus
    filename: str
    size_bytes: BigInt
    sha256: str | None
    content_type: str | None
    probe: JSON | None
    error_code: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, asset: models.Asset) -> Asset:
        return cls(id=strawberry.ID(str(asset.id)), project_id=strawberry.ID(str(asset.project_id)),  # type: ignore[attr-defined]
                   kind=asset.kind, status=asset.status, filename=asset.filename, size_bytes=BigInt(asset.size_bytes),
                   sha256=asset.sha256, content_type=asset.content_type, probe=asset.probe,
                   error_code=asset.error_code, created_at=asset.created_at)


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    description: str
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The project's assets, oldest first (batched per operation).")
    async def assets(self, info: Info[RecapContext, Any]) -> list[Asset]:
        rows = await loaders(info).assets.load(UUID(str(self.id)))
        return [Asset.from_model(row) for row in rows]

    @strawberry.field(description="The project's render jobs, newest first (batched per operation).")
    async def jobs(self, info: Info[RecapContext, Any], first: int = 20, after: str | None = None) -> JobConnection:
        page = await loaders(info).jobs.load(JobsKey(UUID(str(self.id)), first, decode_cursor(after)))
        return connection(page, Job.from_model, JobConnection)  # type: ignore[return-value]

    @classmethod
    def from_model(cls, project: models.Project) -> Project:
        return cls(id=strawberry.ID(str(project.id)), name=project.name, description=project.description,
                   created_at=project.created_at, updated_at=project.updated_at)


@strawberry.type
class ProjectPayload:
    project: Project


@strawberry.type
class DeleteProjectPayload:
    deleted_id: strawberry.ID
