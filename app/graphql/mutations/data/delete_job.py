"""Mutation ``deleteJob`` (editors+): cancels an active job, removes its files and credits its storage."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.services import projects
from app.services.text import parse_id


@strawberry.type
class DeleteJobPayload:
    deleted_id: strawberry.ID


DeleteJobResult = Annotated[DeleteJobPayload | NotFoundError | PermissionDeniedError,
                            strawberry.union("DeleteJobResult")]


@strawberry.type
class DeleteJobMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Delete a job: cancelled when active; its intermediates, outputs, cache "
                                     "entries no other job uses and signed links go; storage is credited.")
    async def delete_job(self, info: Info[RecapContext, Any], id: strawberry.ID) -> DeleteJobResult:
        try:
            deleted = await projects.delete_job(info.context.principal(), parse_id(id, what="job"),
                                                settings=info.context.settings)
        except AppError as ex:
            return error_for(ex, DeleteJobResult)
        return DeleteJobPayload(deleted_id=strawberry.ID(str(deleted)))
