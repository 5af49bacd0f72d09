"""Inputs of the quota mutations."""

from __future__ import annotations

import strawberry

from app.graphql.types.scalars import BigInt


@strawberry.input
class SetQuotaPolicyInput:
    tenant_id: strawberry.ID
    concurrent_jobs: int
    processing_minutes_per_month: int
    storage_bytes: BigInt


@strawberry.input
class SetTenantPlanInput:
    tenant_id: strawberry.ID
    plan: str = strawberry.field(description="A configured plan: free, pro, studio (RECAP_PLANS).")
