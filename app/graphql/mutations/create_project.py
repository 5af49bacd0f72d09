"""Mutation ``createProject`` (editors+)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import PermissionDeniedError, QuotaExceededError, ValidationError, error_for
from app.graphql.inputs.project import CreateProjectInput
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.project import Project, ProjectPayload
from app.services import projects

CreateProjectResult = Annotated[ProjectPayload | ValidationError | PermissionDeniedError | QuotaExceededError,
                                strawberry.union("CreateProjectResult")]


@strawberry.type
class CreateProjectMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def create_project(self, info: Info[RecapContext, Any], input: CreateProjectInput) -> CreateProjectResult:
        try:
            project = await projects.create_project(info.context.principal(), input.name, input.description,
                                                    quota_defaults=info.context.settings.quota)
        except AppError as ex:
            return error_for(ex, CreateProjectResult)
        return ProjectPayload(project=Project.from_model(project))
