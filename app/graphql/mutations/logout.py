"""Mutation ``logout``: revoke the session (refresh-token family) of a refresh token."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import RecapContext
from app.graphql.types.auth import LogoutPayload
from app.services import auth


@strawberry.type
class LogoutMutation:
    @strawberry.mutation(description="Revoke the refresh token's whole session; always ok (unknown tokens too). "
                                     "Access tokens already issued stay valid until they expire.")
    async def logout(self, info: Info[RecapContext, Any], refresh_token: str) -> LogoutPayload:
        await auth.logout(info.context.settings, refresh_token, ip=info.context.client_ip)
        return LogoutPayload(ok=True)
