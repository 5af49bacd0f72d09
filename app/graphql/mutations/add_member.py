"""Mutation ``addMember``: invite an email address to your tenant (admins+); the invitee must accept."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.enums import Role
from app.graphql.types.tenant import Invitation, InvitationPayload
from app.services import invitations

AddMemberResult = Annotated[InvitationPayload | ValidationError | PermissionDeniedError,
                            strawberry.union("AddMemberResult")]


@strawberry.type
class AddMemberMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Invite an email address with a role. Nobody joins without accepting "
                                     "(acceptInvitation with the token sent to that address); the answer is the "
                                     "same whether or not the address has an account.")
    async def add_member(self, info: Info[RecapContext, Any], email: str, role: Role) -> AddMemberResult:
        try:
            row = await invitations.create_invitation(info.context.principal(), email, role)
        except AppError as ex:
            return error_for(ex, AddMemberResult)
        return InvitationPayload(invitation=Invitation.from_view(row))
