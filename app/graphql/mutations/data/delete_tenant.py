"""Mutation ``deleteTenant`` (owners): erase the caller's tenant with everything it holds (GDPR Art. 17)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.errors import ValidationError as AppValidationError
from app.graphql.context import RecapContext
from app.graphql.errors import PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.services import erasure, tenants


@strawberry.type
class DeleteTenantPayload:
    deleted_id: strawberry.ID


DeleteTenantResult = Annotated[DeleteTenantPayload | PermissionDeniedError | ValidationError,
                               strawberry.union("DeleteTenantResult")]


@strawberry.type
class DeleteTenantMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Erase your tenant (owners): running jobs are cancelled; rows, files and "
                                     "Redis state go. `confirmSlug` must be the tenant's slug.")
    async def delete_tenant(self, info: Info[RecapContext, Any], confirm_slug: str) -> DeleteTenantResult:
        principal = info.context.principal()
        try:
            tenant = await tenants.get_tenant(principal)
            if confirm_slug != tenant.slug:
                raise AppValidationError("confirmSlug is not this tenant's slug", "confirmSlug")
            deleted = await erasure.delete_tenant(principal, info.context.settings)
        except AppError as ex:
            return error_for(ex, DeleteTenantResult)
        return DeleteTenantPayload(deleted_id=strawberry.ID(str(deleted)))
