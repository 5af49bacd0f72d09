"""Data governance: durable storage purges, personal-data exports, retention policies."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class StoragePurge(Model):
    """Prefixes and keys to remove from storage (written with the deletion, removed after ``not_before``)."""

    id = fields.BigIntField(primary_key=True)
    tenant_ref = fields.UUIDField(null=True)  # no FK: outlives an erased tenant
    prefixes: fields.JSONField[Any] = fields.JSONField(default=list)
    keys: fields.JSONField[Any] = fields.JSONField(default=list)
    not_before = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "storage_purges"


class DataExport(Model):
    """One personal-data export of a user: queued -> running -> ready (or failed); expires."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name=False)
    state = fields.CharField(max_length=16, default="queued")
    storage_key = fields.CharField(max_length=1024, null=True)
    size_bytes = fields.BigIntField(default=0)
    error_code = fields.CharField(max_length=64, null=True)
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "data_exports"


class RetentionPolicy(Model):
    """Days each kind of data is kept for one tenant; None keeps it forever."""

    tenant: fields.OneToOneRelation[Tenant] = fields.OneToOneField(
        "models.Tenant", related_name="retention_policy", primary_key=True
    )
    intermediates_days = fields.IntField(null=True)
    outputs_days = fields.IntField(null=True)
    exports_days = fields.IntField(null=True)
    audit_days = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "retention_policies"


from app.models.tenant import Tenant  # noqa: E402
from app.models.user import User  # noqa: E402
