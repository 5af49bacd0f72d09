"""Data governance: personal-data exports and retention policies."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.config import Settings
from app.graphql.types.scalars import BigInt
from app.models import DataExport as DataExportModel
from app.models import RetentionPolicy as RetentionPolicyModel
from app.services.export import export_link
from app.services.retention import TenantReport


@strawberry.type
class DataExport:
    id: strawberry.ID
    state: str = strawberry.field(description="queued, running, ready or failed.")
    size_bytes: BigInt
    error_code: str | None
    created_at: datetime
    expires_at: datetime | None
    download_url: str | None = strawberry.field(description="Signed link to the zip while it is ready.")

    @classmethod
    def from_model(cls, export: DataExportModel, settings: Settings) -> DataExport:
        return cls(id=strawberry.ID(str(export.id)), state=export.state, size_bytes=BigInt(export.size_bytes),
                   error_code=export.error_code, created_at=export.created_at, expires_at=export.expires_at,
                   download_url=export_link(export, settings))


@strawberry.type
class RetentionPolicy:
    intermediates_days: int | None = strawberry.field(description="Job intermediates and unused cache entries.")
    outputs_days: int | None = strawberry.field(description="Delivered files of finished jobs.")
    exports_days: int | None = strawberry.field(description="Personal-data exports of members.")
    audit_days: int | None = strawberry.field(description="Audit events of the tenant.")

    @classmethod
    def from_model(cls, policy: RetentionPolicyModel | None) -> RetentionPolicy:
        if policy is None:
            return cls(intermediates_days=None, outputs_days=None, exports_days=None, audit_days=None)
        return cls(intermediates_days=policy.intermediates_days, outputs_days=policy.outputs_days,
                   exports_days=policy.exports_days, audit_days=policy.audit_days)


@strawberry.type
class RetentionPreview:
    """What the retention cron would remove now (a dry run)."""

    intermediates_jobs: int
    outputs_jobs: int
    exports: int
    audit_events: int
    credited_bytes: BigInt

    @classmethod
    def from_report(cls, report: TenantReport | None) -> RetentionPreview:
        if report is None:
            return cls(intermediates_jobs=0, outputs_jobs=0, exports=0, audit_events=0, credited_bytes=BigInt(0))
        return cls(intermediates_jobs=report.intermediates, outputs_jobs=report.outputs, exports=report.exports,
                   audit_events=report.audit_events, credited_bytes=BigInt(report.credited_bytes))


@strawberry.input
class RetentionPolicyInput:
    intermediates_days: int | None = None
    outputs_days: int | None = None
    exports_days: int | None = None
    audit_days: int | None = None
