"""Inputs of the project mutations."""

from __future__ import annotations

import strawberry


@strawberry.input
class CreateProjectInput:
    name: str = strawberry.field(description="1-200 characters; control and bidi-override characters refused.")
    description: str = ""


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
