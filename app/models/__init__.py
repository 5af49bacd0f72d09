"""Tortoise ORM models, one module per aggregate. Every tenant-owned row carries ``tenant_id``.

Tables are created by the SQL migrations in ``app/db/migrations`` (not by Tortoise), which
also enable row-level security on every tenant table.
"""

from app.models.audit import AuditEvent
from app.models.enums import AssetKind, AssetStatus, JobState, Role, Stage, StageState, UploadState
from app.models.governance import DataExport, RetentionPolicy, StoragePurge
from app.models.invitation import Invitation, OutboxMessage
from app.models.job import Artifact, Job, StageRun
from app.models.project import Asset, Project
from app.models.tenant import Membership, QuotaPolicy, Tenant, TenantBudget, UsageCounter
from app.models.upload import Upload
from app.models.user import RefreshToken, User

#: Tables whose rows belong to a tenant (row-level security applies to each).
TENANT_TABLES = ("memberships", "quota_policies", "usage_counters", "projects", "assets", "jobs", "stage_runs",
                 "artifacts", "uploads", "audit_events", "invitations", "retention_policies", "tenant_budgets")

__all__ = [
    "TENANT_TABLES", "Artifact", "Asset", "AssetKind", "AssetStatus", "AuditEvent", "DataExport", "Invitation", "Job",
    "JobState", "Membership", "OutboxMessage", "Project", "QuotaPolicy", "RefreshToken", "RetentionPolicy", "Role",
    "Stage", "StageRun", "StageState", "StoragePurge", "Tenant", "TenantBudget", "Upload", "UploadState",
    "UsageCounter", "User",
]
