"""Query: ``usage`` (your tenant's month; every tenant for platform admins)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.usage import TenantUsage, UsageList
from app.services import usage

UsageResult = Annotated[UsageList | ValidationError | PermissionDeniedError, strawberry.union("UsageResult")]


@strawberry.type
class UsageQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Jobs, source minutes, resources, storage, egress and cost in a month (UTC, "
                                  "default: this one); allTenants: every tenant (platform admins).")
    async def usage(self, info: Info[RecapContext, Any], month: str | None = None,
                    all_tenants: bool = False) -> UsageResult:
        try:
            rows = await usage.month_usage(info.context.principal(), month, all_tenants=all_tenants,
                                           settings=info.context.settings)
        except AppError as ex:
            return error_for(ex, UsageResult)
        return UsageList(items=[TenantUsage.from_row(r) for r in rows])
