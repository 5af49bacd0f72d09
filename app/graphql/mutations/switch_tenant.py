"""Mutation ``switchTenant``: a session in another tenant the caller belongs to."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.auth import AuthPayload
from app.services import auth
from app.services.text import parse_id

SwitchTenantResult = Annotated[AuthPayload | NotFoundError, strawberry.union("SwitchTenantResult")]


@strawberry.type
class SwitchTenantMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="New tokens scoped to `tenantId`; NOT_FOUND unless you are a member.")
    async def switch_tenant(self, info: Info[RecapContext, Any], tenant_id: strawberry.ID) -> SwitchTenantResult:
        try:
            result = await auth.switch_tenant(info.context.settings, info.context.principal(),
                                              parse_id(tenant_id, what="tenant", field="tenantId"))
        except AppError as ex:
            return error_for(ex, SwitchTenantResult)
        return AuthPayload.from_result(result)
