"""Projects and their assets (source videos, scripts, narration, intro, outro)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from app.models.enums import AssetKind, AssetStatus


class Project(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name="projects")
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    settings: fields.JSONField[Any] = fields.JSONField(default=dict)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "projects"
        indexes = (("tenant", "created_at"),)


class Asset(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name=False)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField("models.Project", related_name="assets")
    kind = fields.CharEnumField(AssetKind, max_length=32)
    status = fields.CharEnumField(AssetStatus, max_length=16, default=AssetStatus.PENDING)
    filename = fields.CharField(max_length=255)  # sanitised display name; never a path
    storage_key = fields.CharField(max_length=1024)
    size_bytes = fields.BigIntField(default=0)
    sha256 = fields.CharField(max_length=64, null=True)
    content_type = fields.CharField(max_length=100, null=True)
    probe: fields.JSONField[Any] = fields.JSONField(null=True)
    error_code = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "assets"


from app.models.tenant import Tenant  # noqa: E402
from app.models.user import User  # noqa: E402
