"""Mutation ``register``: create an account, its tenant (as owner), and log in."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, ValidationError, error_for
from app.graphql.types.auth import AuthPayload
from app.services import auth

RegisterResult = Annotated[AuthPayload | ValidationError | ConflictError, strawberry.union("RegisterResult")]


@strawberry.type
class RegisterMutation:
    @strawberry.mutation(description="Create an account and a tenant owned by it; returns a session.")
    async def register(self, info: Info[RecapContext, Any], email: str, password: str, display_name: str,
                       tenant_name: str) -> RegisterResult:
        try:
            result = await auth.register(info.context.settings, email, password, display_name, tenant_name,
                                         ip=info.context.client_ip)
        except AppError as ex:
            return error_for(ex, RegisterResult)
        return AuthPayload.from_result(result)
