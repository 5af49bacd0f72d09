"""Tenants, memberships, quota policies and usage counters."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.enums import Role


class Tenant(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=80, unique=True)
    webhook_url = fields.CharField(max_length=2000, null=True)
    webhook_secret = fields.CharField(max_length=200, null=True)
    #: Plan tier (``settings.plans``): decides the quota defaults, the rate tier and the queue priority
    #: class (``settings.priority.plans``). Set by platform admins.
    plan = fields.CharField(max_length=32, default="free")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenants"


class Membership(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name="memberships")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="memberships")
    role = fields.CharEnumField(Role, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "memberships"
        unique_together = (("tenant", "user"),)


class QuotaPolicy(Model):
    """Limits of one tenant; a missing row means the settings' defaults."""

    tenant: fields.OneToOneRelation[Tenant] = fields.OneToOneField(
        "models.Tenant", related_name="quota_policy", primary_key=True
    )
    concurrent_jobs = fields.IntField()
    processing_minutes_per_month = fields.IntField()
    storage_bytes = fields.BigIntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "quota_policies"


class UsageCounter(Model):
    """Per-tenant usage: processing seconds per month ``period`` (YYYY-MM); storage bytes in period 'total'."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name="usage")
    period = fields.CharField(max_length=7)
    processing_seconds = fields.FloatField(default=0.0)
    storage_bytes = fields.BigIntField(default=0)
    egress_bytes = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "usage_counters"
        unique_together = (("tenant", "period"),)


class TenantBudget(Model):
    """A tenant's monthly cost budget; an event and a webhook go out at 80 % and 100 % (once a month each)."""

    tenant: fields.OneToOneRelation[Tenant] = fields.OneToOneField(
        "models.Tenant", related_name="budget", primary_key=True
    )
    monthly_cost = fields.FloatField()
    alerted_period = fields.CharField(max_length=7, null=True)
    alerted_level = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tenant_budgets"


from app.models.user import User  # noqa: E402  (string FK targets; import for type checkers)
