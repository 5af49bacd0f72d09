"""Mutation ``createTenant``: a new tenant owned by the caller, with a session scoped to it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.auth import AuthPayload
from app.graphql.types.tenant import Tenant
from app.services import auth, tenants


@strawberry.type
class CreateTenantPayload:
    tenant: Tenant
    session: AuthPayload = strawberry.field(description="Tokens scoped to the new tenant (you are its owner).")


CreateTenantResult = Annotated[CreateTenantPayload | ValidationError, strawberry.union("CreateTenantResult")]


@strawberry.type
class CreateTenantMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def create_tenant(self, info: Info[RecapContext, Any], name: str) -> CreateTenantResult:
        principal = info.context.principal()
        try:
            tenant = await tenants.create_tenant(principal, name)
            session = await auth.switch_tenant(info.context.settings, principal, tenant.id)
        except AppError as ex:
            return error_for(ex, CreateTenantResult)
        return CreateTenantPayload(tenant=Tenant.from_model(tenant), session=AuthPayload.from_result(session))
