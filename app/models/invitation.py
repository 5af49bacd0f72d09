"""Invitations to join a tenant (accepted by the invitee) and the outbox of messages to deliver."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.enums import Role


class Invitation(Model):
    """An offer of ``role`` in ``tenant`` to whoever holds ``email`` and the token; only its sha256 is stored."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name="invitations")
    email = fields.CharField(max_length=320)  # normalised with app.services.text.normalize_email
    role = fields.CharEnumField(Role, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL)
    accepted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations_accepted", null=True, on_delete=fields.SET_NULL)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invitations"


class OutboxMessage(Model):
    """A message for ``recipient`` (an email address). Development reads it with ``recap admin outbox``."""

    id = fields.UUIDField(primary_key=True)
    recipient = fields.CharField(max_length=320)
    kind = fields.CharField(max_length=64)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_messages"


from app.models.tenant import Tenant  # noqa: E402  (string FK targets; import for type checkers)
from app.models.user import User  # noqa: E402
