"""Mutation ``deleteAccount``: erase the caller's account (GDPR Art. 17), confirmed by the password."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ConflictError, UnauthenticatedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.services import erasure


@strawberry.type
class DeleteAccountPayload:
    deleted_id: strawberry.ID


DeleteAccountResult = Annotated[DeleteAccountPayload | UnauthenticatedError | ConflictError,
                                strawberry.union("DeleteAccountResult")]


@strawberry.type
class DeleteAccountMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Erase your account, and every tenant where you are the only member, with "
                                     "their files; the audit keeps a pseudonymised tombstone.")
    async def delete_account(self, info: Info[RecapContext, Any], password: str) -> DeleteAccountResult:
        try:
            deleted = await erasure.delete_account(info.context.principal(), info.context.settings, password)
        except AppError as ex:
            return error_for(ex, DeleteAccountResult)
        return DeleteAccountPayload(deleted_id=strawberry.ID(str(deleted)))
