"""Users (global accounts) and their rotating refresh tokens."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)  # stored lower-cased
    password_hash = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=200, default="")
    is_platform_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class RefreshToken(Model):
    """One refresh token; tokens of one login share a ``family``. Only the sha256 of the token is stored."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="refresh_tokens")
    #: The tenant the session acts in: removing the member revokes these tokens. (Not ``tenant``: the row
    #: belongs to the user, and every ``tenant_id`` table is under row-level security.)
    session_tenant: fields.ForeignKeyNullableRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="refresh_tokens", null=True)
    family = fields.UUIDField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_tokens"


from app.models.tenant import Tenant  # noqa: E402  (string FK targets; import for type checkers)
