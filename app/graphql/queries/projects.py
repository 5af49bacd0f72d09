"""Queries: ``project(id)``, ``projects(first, after, search)``."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, error_for
from app.graphql.pagination import Connection, connection, decode_cursor
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.project import Project
from app.services import projects
from app.services.text import parse_id

ProjectResult = Annotated[Project | NotFoundError, strawberry.union("ProjectResult")]


@strawberry.type
class ProjectQuery:
    @strawberry.field(permission_classes=AUTHENTICATED)
    async def project(self, info: Info[RecapContext, Any], id: strawberry.ID) -> ProjectResult:
        try:
            project = await projects.get_project(info.context.principal(), parse_id(id, what="project"))
        except AppError as ex:
            return error_for(ex, ProjectResult)
        return Project.from_model(project)

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your tenant's projects, newest first; `search` matches names (case-insensitive).")
    async def projects(self, info: Info[RecapContext, Any], first: int = 20, after: str | None = None,
                       search: str | None = None) -> Connection[Project]:
        page = await projects.list_projects(info.context.principal(), first=first, after=decode_cursor(after),
                                            search=search)
        return connection(page, Project.from_model)
