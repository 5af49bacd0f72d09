"""Usage and cost of a tenant in one month."""

from __future__ import annotations

import strawberry

from app.graphql.types.scalars import BigInt
from app.services.usage import TenantUsage as UsageRow


@strawberry.type(description="One tenant's usage and cost in one month (UTC); costs in the price table's unit.")
class TenantUsage:
    tenant_id: strawberry.ID
    month: str = strawberry.field(description="YYYY-MM.")
    jobs: int = strawberry.field(description="Render jobs created in the month.")
    jobs_succeeded: int
    source_minutes: float = strawberry.field(description="Minutes of source video of those jobs.")
    cpu_seconds: float
    gpu_seconds: float
    wall_seconds: float = strawberry.field(description="Stage run time, every attempt counted.")
    storage_bytes: BigInt
    egress_bytes: BigInt = strawberry.field(description="Bytes sent by downloads in the month.")
    compute_cost: float
    storage_cost: float
    egress_cost: float
    cost: float = strawberry.field(description="compute + storage + egress.")
    cost_per_source_minute: float | None = strawberry.field(description="Compute cost per source minute.")
    budget: float | None = strawberry.field(description="Monthly budget; alerts go out at 80 % and 100 %.")

    @classmethod
    def from_row(cls, row: UsageRow) -> TenantUsage:
        return cls(tenant_id=strawberry.ID(str(row.tenant_id)), month=row.month, jobs=row.jobs,
                   jobs_succeeded=row.jobs_succeeded, source_minutes=row.source_minutes, cpu_seconds=row.cpu_seconds,
                   gpu_seconds=row.gpu_seconds, wall_seconds=row.wall_seconds,
                   storage_bytes=BigInt(row.storage_bytes), egress_bytes=BigInt(row.egress_bytes),
                   compute_cost=row.compute_cost, storage_cost=row.storage_cost, egress_cost=row.egress_cost,
                   cost=row.cost, cost_per_source_minute=row.cost_per_source_minute, budget=row.budget)


@strawberry.type
class UsageList:
    items: list[TenantUsage]
