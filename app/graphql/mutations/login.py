"""Mutation ``login``: email + password (throttled per account and per IP)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import RateLimitedError, UnauthenticatedError, ValidationError, error_for
from app.graphql.types.auth import AuthPayload
from app.services import auth
from app.services.text import parse_id

LoginResult = Annotated[AuthPayload | UnauthenticatedError | RateLimitedError | ValidationError,
                        strawberry.union("LoginResult")]


@strawberry.type
class LoginMutation:
    @strawberry.mutation(description="Open a session in `tenantId` (default: your oldest membership).")
    async def login(self, info: Info[RecapContext, Any], email: str, password: str,
                    tenant_id: strawberry.ID | None = None) -> LoginResult:
        from app.redis import get_redis

        try:
            tenant = parse_id(tenant_id, what="tenant", field="tenantId") if tenant_id is not None else None
            redis = get_redis(info.context.settings)
            result = await auth.login(info.context.settings, redis, email, password, tenant, ip=info.context.client_ip)
        except AppError as ex:
            return error_for(ex, LoginResult)
        return AuthPayload.from_result(result)
