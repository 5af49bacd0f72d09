"""Mutation ``register``: create an account, its tenant (as owner), and log in."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, RateLimitedError, ValidationError, error_for
from app.graphql.types.auth import AuthPayload
from app.services import auth

RegisterResult = Annotated[AuthPayload | ValidationError | ConflictError | RateLimitedError,
                           strawberry.union("RegisterResult")]


@strawberry.type
class RegisterMutation:
    @strawberry.mutation(description="Create an account and a tenant owned by it; returns a session.")
    async def register(self, info: Info[RecapContext, Any], email: str, password: str, display_name: str,
                       tenant_name: str) -> RegisterResult:
        from app.redis import get_redis

        try:
            result = await auth.register(info.context.settings, email, password, display_name, tenant_name,
                                         ip=info.context.client_ip, redis=get_redis(info.context.settings))
        except AppError as ex:
            return error_for(ex, RegisterResult)
        return AuthPayload.from_result(result)
