"""Mutation ``setBudget``: a tenant's monthly cost budget (its owner, or platform admins); null removes it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.usage import TenantUsage, UsageList
from app.services import usage
from app.services.text import parse_id

SetBudgetResult = Annotated[UsageList | ValidationError | NotFoundError | PermissionDeniedError,
                            strawberry.union("SetBudgetResult")]


@strawberry.type
class SetBudgetMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Set a tenant's monthly cost budget (alerts at 80 % and 100 %); null removes it. "
                                     "The tenant's owner or a platform admin. Returns this month's usage.")
    async def set_budget(self, info: Info[RecapContext, Any], tenant_id: strawberry.ID,
                         monthly_cost: float | None) -> SetBudgetResult:
        principal = info.context.principal()
        try:
            tenant = parse_id(tenant_id, what="tenant", field="tenantId")
            await usage.set_budget(principal, tenant, monthly_cost)
            rows = await usage.month_usage(principal, all_tenants=tenant != principal.tenant_id,
                                           settings=info.context.settings)
        except AppError as ex:
            return error_for(ex, SetBudgetResult)
        return UsageList(items=[TenantUsage.from_row(r) for r in rows if r.tenant_id == tenant])
