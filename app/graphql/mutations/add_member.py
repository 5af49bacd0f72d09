"""Mutation ``addMember``: add an existing account to your tenant (admins+)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.enums import Role
from app.graphql.types.tenant import Member, MemberPayload
from app.services import tenants

AddMemberResult = Annotated[MemberPayload | ValidationError | NotFoundError | PermissionDeniedError | ConflictError,
                            strawberry.union("AddMemberResult")]


@strawberry.type
class AddMemberMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a registered account by email; unknown emails are NOT_FOUND (no invites).")
    async def add_member(self, info: Info[RecapContext, Any], email: str, role: Role) -> AddMemberResult:
        try:
            row = await tenants.add_member(info.context.principal(), email, role)
        except AppError as ex:
            return error_for(ex, AddMemberResult)
        return MemberPayload(member=Member.from_row(row))
