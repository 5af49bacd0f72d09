"""Queries: ``job(id)``, ``jobs(projectId, first, after)`` (read-only; the runners fill the jobs)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, error_for
from app.graphql.pagination import connection, decode_cursor
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.job import Job, JobConnection
from app.services import jobs_read
from app.services.text import parse_id

JobResult = Annotated[Job | NotFoundError, strawberry.union("JobResult")]
JobsResult = Annotated[JobConnection | NotFoundError, strawberry.union("JobsResult")]


@strawberry.type
class JobQuery:
    @strawberry.field(permission_classes=AUTHENTICATED)
    async def job(self, info: Info[RecapContext, Any], id: strawberry.ID) -> JobResult:
        try:
            job = await jobs_read.get_job(info.context.principal(), parse_id(id, what="job"))
        except AppError as ex:
            return error_for(ex, JobResult)
        return Job.from_model(job)

    @strawberry.field(permission_classes=AUTHENTICATED, description="A project's jobs, newest first.")
    async def jobs(self, info: Info[RecapContext, Any], project_id: strawberry.ID, first: int = 20,
                   after: str | None = None) -> JobsResult:
        try:
            page = await jobs_read.list_jobs(info.context.principal(), parse_id(project_id, what="project",
                                                                                  field="projectId"),
                                             first=first, after=decode_cursor(after))
        except AppError as ex:
            return error_for(ex, JobsResult)
        return connection(page, Job.from_model, JobConnection)  # type: ignore[return-value]
