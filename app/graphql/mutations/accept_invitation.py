"""Mutation ``acceptInvitation``: join the tenant that invited your email address (the token from the message)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, NotFoundError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.tenant import InvitationAccepted
from app.services import invitations

AcceptInvitationResult = Annotated[InvitationAccepted | NotFoundError | ConflictError,
                                   strawberry.union("AcceptInvitationResult")]


@strawberry.type
class AcceptInvitationMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Accept an invitation sent to your account's email address.")
    async def accept_invitation(self, info: Info[RecapContext, Any], token: str) -> AcceptInvitationResult:
        try:
            row = await invitations.accept_invitation(info.context.principal(), token)
        except AppError as ex:
            return error_for(ex, AcceptInvitationResult)
        return InvitationAccepted.from_row(row)
