"""Mutation ``updateProject`` (editors+)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, ValidationError, error_for
from app.graphql.inputs.project import UpdateProjectInput
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.project import Project, ProjectPayload
from app.services import projects
from app.services.text import parse_id

UpdateProjectResult = Annotated[ProjectPayload | ValidationError | NotFoundError | PermissionDeniedError,
                                strawberry.union("UpdateProjectResult")]


@strawberry.type
class UpdateProjectMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def update_project(self, info: Info[RecapContext, Any], input: UpdateProjectInput) -> UpdateProjectResult:
        try:
            project = await projects.update_project(info.context.principal(), parse_id(input.id, what="project"),
                                                    name=input.name, description=input.description)
        except AppError as ex:
            return error_for(ex, UpdateProjectResult)
        return ProjectPayload(project=Project.from_model(project))
