"""Query: ``alignment(jobId)``: the job's alignment (the user's edit when there is one)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, NotFoundError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.render import AlignmentPayload
from app.services import render, review
from app.services.text import parse_id

AlignmentResult = Annotated[AlignmentPayload | NotFoundError | ConflictError, strawberry.union("AlignmentResult")]


@strawberry.type
class RenderQuery:
    @strawberry.field(permission_classes=AUTHENTICATED)
    async def alignment(self, info: Info[RecapContext, Any], job_id: strawberry.ID) -> AlignmentResult:
        try:
            principal = info.context.principal()
            data = await review.get_alignment(principal, parse_id(job_id, what="job", field="jobId"),
                                              info.context.settings)
            job = await render.get_job(principal, parse_id(job_id, what="job", field="jobId"))
        except AppError as ex:
            return error_for(ex, AlignmentResult)
        return AlignmentPayload(job_id=job_id, edited=bool(job.options.get("alignment_edit")), alignment=data)  # type: ignore[arg-type]

