"""Mutation ``changeRole``: set a member's role (admins+; owner changes by owners; never the last owner)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, NotFoundError, PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.enums import Role
from app.graphql.types.tenant import Member, MemberPayload
from app.services import tenants
from app.services.text import parse_id

ChangeRoleResult = Annotated[MemberPayload | NotFoundError | PermissionDeniedError | ConflictError,
                             strawberry.union("ChangeRoleResult")]


@strawberry.type
class ChangeRoleMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def change_role(self, info: Info[RecapContext, Any], user_id: strawberry.ID, role: Role) -> ChangeRoleResult:
        try:
            row = await tenants.change_role(info.context.principal(), parse_id(user_id, what="member",
                                                                               field="userId"), role)
        except AppError as ex:
            return error_for(ex, ChangeRoleResult)
        return MemberPayload(member=Member.from_row(row))
