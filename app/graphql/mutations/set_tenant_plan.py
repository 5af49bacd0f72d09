"""Mutation ``setTenantPlan``: move a tenant onto a plan tier; its limits become the tier's (platform admins)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, ValidationError, error_for
from app.graphql.inputs.quota import SetTenantPlanInput
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.quota import Quota, QuotaPayload
from app.services import quota
from app.services.text import parse_id

SetTenantPlanResult = Annotated[QuotaPayload | ValidationError | NotFoundError | PermissionDeniedError,
                                strawberry.union("SetTenantPlanResult")]


@strawberry.type
class SetTenantPlanMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Move a tenant onto a plan tier (platform admins only).")
    async def set_tenant_plan(self, info: Info[RecapContext, Any], input: SetTenantPlanInput) -> SetTenantPlanResult:
        try:
            report = await quota.set_tenant_plan(info.context.principal(),
                                                 parse_id(input.tenant_id, what="tenant", field="tenantId"),
                                                 input.plan, info.context.settings)
        except AppError as ex:
            return error_for(ex, SetTenantPlanResult)
        return QuotaPayload(quota=Quota.from_report(report))
