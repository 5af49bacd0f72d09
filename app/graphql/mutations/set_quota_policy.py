"""Mutation ``setQuotaPolicy``: custom limits for a tenant (platform admins only; tenant admins read ``quota``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, ValidationError, error_for
from app.graphql.inputs.quota import SetQuotaPolicyInput
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.quota import Quota, QuotaPayload
from app.services import quota
from app.services.text import parse_id

SetQuotaPolicyResult = Annotated[QuotaPayload | ValidationError | NotFoundError | PermissionDeniedError,
                                 strawberry.union("SetQuotaPolicyResult")]


@strawberry.type
class SetQuotaPolicyMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Custom limits for a tenant (platform admins only).")
    async def set_quota_policy(self, info: Info[RecapContext, Any], input: SetQuotaPolicyInput) -> SetQuotaPolicyResult:
        try:
            report = await quota.set_quota_policy(
                info.context.principal(), parse_id(input.tenant_id, what="tenant", field="tenantId"),
                concurrent_jobs=input.concurrent_jobs, processing_minutes_per_month=input.processing_minutes_per_month,
                storage_bytes=int(input.storage_bytes), defaults=info.context.settings.quota)
        except AppError as ex:
            return error_for(ex, SetQuotaPolicyResult)
        return QuotaPayload(quota=Quota.from_report(report))
