"""Mutation ``setRetentionPolicy`` (admins+): how many days each kind of data is kept (null keeps forever)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.governance import RetentionPolicy, RetentionPolicyInput
from app.services import retention

SetRetentionPolicyResult = Annotated[RetentionPolicy | ValidationError | PermissionDeniedError,
                                     strawberry.union("SetRetentionPolicyResult")]


@strawberry.type
class SetRetentionPolicyMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Set your tenant's retention; the worker's retention cron enforces it.")
    async def set_retention_policy(self, info: Info[RecapContext, Any],
                                   input: RetentionPolicyInput) -> SetRetentionPolicyResult:
        try:
            policy = await retention.set_retention_policy(
                info.context.principal(), intermediates_days=input.intermediates_days,
                outputs_days=input.outputs_days, exports_days=input.exports_days, audit_days=input.audit_days)
        except AppError as ex:
            return error_for(ex, SetRetentionPolicyResult)
        return RetentionPolicy.from_model(policy)
