"""Mutation ``refreshToken``: rotate a refresh token (reuse of a spent one revokes the family)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import TokenReusedError, UnauthenticatedError, error_for
from app.graphql.types.auth import AuthPayload
from app.services import auth

RefreshTokenResult = Annotated[AuthPayload | UnauthenticatedError | TokenReusedError,
                               strawberry.union("RefreshTokenResult")]


@strawberry.type
class RefreshTokenMutation:
    @strawberry.mutation(description="Spend a refresh token: a new access token and the next refresh token.")
    async def refresh_token(self, info: Info[RecapContext, Any], token: str) -> RefreshTokenResult:
        try:
            result = await auth.refresh(info.context.settings, token, ip=info.context.client_ip)
        except AppError as ex:
            return error_for(ex, RefreshTokenResult)
        return AuthPayload.from_result(result)
