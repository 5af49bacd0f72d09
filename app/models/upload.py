"""tus uploads in progress (one row per upload resource)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from app.models.enums import AssetKind, UploadState


class Upload(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name=False)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField("models.Project", related_name="uploads")
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharEnumField(AssetKind, max_length=32)
    state = fields.CharEnumField(UploadState, max_length=16, default=UploadState.CREATED)
    filename = fields.CharField(max_length=255)
    length = fields.BigIntField(null=True)  # null while Upload-Defer-Length
    offset = fields.BigIntField(default=0)
    storage_key = fields.CharField(max_length=1024)
    metadata: fields.JSONField[Any] = fields.JSONField(default=dict)
    error_code = fields.CharField(max_length=64, null=True)
    asset: fields.ForeignKeyNullableRelation[Asset] = fields.ForeignKeyField(
        "models.Asset", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    expires_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "uploads"


from app.models.project import Asset, Project  # noqa: E402
from app.models.tenant import Tenant  # noqa: E402
from app.models.user import User  # noqa: E402
