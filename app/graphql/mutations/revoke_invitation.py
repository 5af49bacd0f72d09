"""Mutation ``revokeInvitation``: withdraw a pending invitation of your tenant (admins+)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.tenant import RevokeInvitationPayload
from app.services import invitations
from app.services.text import parse_id

RevokeInvitationResult = Annotated[RevokeInvitationPayload | NotFoundError | PermissionDeniedError,
                                   strawberry.union("RevokeInvitationResult")]


@strawberry.type
class RevokeInvitationMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def revoke_invitation(self, info: Info[RecapContext, Any],
                                invitation_id: strawberry.ID) -> RevokeInvitationResult:
        try:
            revoked = await invitations.revoke_invitation(
                info.context.principal(), parse_id(invitation_id, what="invitation", field="invitationId"))
        except AppError as ex:
            return error_for(ex, RevokeInvitationResult)
        return RevokeInvitationPayload(revoked_invitation_id=strawberry.ID(str(revoked)))
