"""Mutation ``removeMember``: remove a member (admins+, or yourself; never the last owner)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, NotFoundError, PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.tenant import RemoveMemberPayload
from app.services import tenants
from app.services.text import parse_id

RemoveMemberResult = Annotated[RemoveMemberPayload | NotFoundError | PermissionDeniedError | ConflictError,
                               strawberry.union("RemoveMemberResult")]


@strawberry.type
class RemoveMemberMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def remove_member(self, info: Info[RecapContext, Any], user_id: strawberry.ID) -> RemoveMemberResult:
        try:
            removed = await tenants.remove_member(info.context.principal(),
                                                  parse_id(user_id, what="member", field="userId"))
        except AppError as ex:
            return error_for(ex, RemoveMemberResult)
        return RemoveMemberPayload(removed_user_id=strawberry.ID(str(removed)))
