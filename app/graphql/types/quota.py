"""Quota: a tenant's limits and current usage."""

from __future__ import annotations

import strawberry

from app.graphql.types.scalars import BigInt
from app.services.quota import QuotaReport


@strawberry.type
class QuotaLimits:
    concurrent_jobs: int
    processing_minutes_per_month: int
    storage_bytes: BigInt


@strawberry.type
class QuotaUsage:
    concurrent_jobs: int = strawberry.field(description="Jobs queued, running or waiting for review.")
    processing_minutes: float = strawberry.field(description="Processing minutes used this month (UTC).")
    storage_bytes: BigInt


@strawberry.type
class Quota:
    tenant_id: strawberry.ID
    period: str = strawberry.field(description="The month the processing minutes count, YYYY-MM (UTC).")
    is_default: bool = strawberry.field(description="No policy set: the deployment's defaults apply.")
    plan: str = strawberry.field(description="The plan tier (free, pro, studio...); it decides the limits.")
    limits: QuotaLimits
    usage: QuotaUsage

    @classmethod
    def from_report(cls, report: QuotaReport) -> Quota:
        return cls(tenant_id=strawberry.ID(str(report.tenant_id)), period=report.period, is_default=report.is_default,
                   plan=report.plan,
                   limits=QuotaLimits(concurrent_jobs=report.concurrent_jobs_limit,
                                      processing_minutes_per_month=report.processing_minutes_limit,
                                      storage_bytes=BigInt(report.storage_bytes_limit)),
                   usage=QuotaUsage(concurrent_jobs=report.concurrent_jobs_used,
                                    processing_minutes=report.processing_minutes_used,
                                    storage_bytes=BigInt(report.storage_bytes_used)))


@strawberry.type
class QuotaPayload:
    quota: Quota
