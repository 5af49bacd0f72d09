"""Query: ``tenant`` (admins+)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.tenant import Tenant
from app.services import tenants

TenantResult = Annotated[Tenant | PermissionDeniedError, strawberry.union("TenantResult")]


@strawberry.type
class TenantQuery:
    @strawberry.field(permission_classes=AUTHENTICATED, description="Your current tenant with its members (admins+).")
    async def tenant(self, info: Info[RecapContext, Any]) -> TenantResult:
        try:
            return Tenant.from_model(await tenants.get_tenant(info.context.principal()))
        except AppError as ex:
            return error_for(ex, TenantResult)
