"""Mutation ``deleteProject`` (admins+): cancels its jobs, removes its rows and stored files, credits storage."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, NotFoundError, PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.project import DeleteProjectPayload
from app.services import projects
from app.services.text import parse_id

DeleteProjectResult = Annotated[DeleteProjectPayload | NotFoundError | PermissionDeniedError | ConflictError,
                                strawberry.union("DeleteProjectResult")]


@strawberry.type
class DeleteProjectMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def delete_project(self, info: Info[RecapContext, Any], id: strawberry.ID) -> DeleteProjectResult:
        try:
            deleted = await projects.delete_project(info.context.principal(), parse_id(id, what="project"),
                                                    settings=info.context.settings)
        except AppError as ex:
            return error_for(ex, DeleteProjectResult)
        return DeleteProjectPayload(deleted_id=strawberry.ID(str(deleted)))
