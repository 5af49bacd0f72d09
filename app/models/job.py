"""Render jobs, their stage runs (the pipeline's source of truth) and cached stage artifacts."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from app.models.enums import JobState, Stage, StageState


class Job(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name=False)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField("models.Project", related_name="jobs")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    state = fields.CharEnumField(JobState, max_length=16, default=JobState.QUEUED)
    options: fields.JSONField[Any] = fields.JSONField(default=dict)
    current_stage = fields.CharEnumField(Stage, max_length=16, null=True)
    progress = fields.FloatField(default=0.0)
    #: Last progress event number; events carry it so clients drop duplicates.
    seq = fields.BigIntField(default=0)
    error_code = fields.CharField(max_length=64, null=True)
    error_message = fields.TextField(null=True)
    outputs: fields.JSONField[Any] = fields.JSONField(default=dict)
    source_seconds = fields.FloatField(default=0.0)
    #: Sums over the stage runs (``runners.accounting``); cost from ``settings.cost``.
    cpu_seconds = fields.FloatField(default=0.0)
    wall_seconds = fields.FloatField(default=0.0)
    gpu_seconds = fields.FloatField(default=0.0)
    peak_memory_bytes = fields.BigIntField(default=0)
    bytes_read = fields.BigIntField(default=0)
    bytes_written = fields.BigIntField(default=0)
    cost = fields.FloatField(default=0.0)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "jobs"
        indexes = (("tenant", "state"), ("project", "created_at"))


class StageRun(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name=False)
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField("models.Job", related_name="stages")
    stage = fields.CharEnumField(Stage, max_length=16)
    state = fields.CharEnumField(StageState, max_length=16, default=StageState.PENDING)
    attempt = fields.IntField(default=0)
    #: ``attempt`` when the job was last retried: this run's budget counts attempts after it.
    attempts_before = fields.IntField(default=0)
    lease_expires_at = fields.DatetimeField(null=True)
    progress = fields.FloatField(default=0.0)
    message = fields.TextField(default="")
    error_code = fields.CharField(max_length=64, null=True)
    error_message = fields.TextField(null=True)
    input_hash = fields.CharField(max_length=64, null=True)
    artifact: fields.ForeignKeyNullableRelation[Artifact] = fields.ForeignKeyField(
        "models.Artifact", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    cached = fields.BooleanField(default=False)
    #: Resources used by this stage, summed over its attempts (``runners.accounting``).
    cpu_seconds = fields.FloatField(default=0.0)
    wall_seconds = fields.FloatField(default=0.0)
    gpu_seconds = fields.FloatField(default=0.0)
    peak_memory_bytes = fields.BigIntField(default=0)
    bytes_read = fields.BigIntField(default=0)
    bytes_written = fields.BigIntField(default=0)
    cost = fields.FloatField(default=0.0)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "stage_runs"
        unique_together = (("job", "stage"),)


class Artifact(Model):
    """A stage's output, keyed by the content hash of the stage's inputs (the cache)."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant", related_name=False)
    stage = fields.CharEnumField(Stage, max_length=16)
    content_hash = fields.CharField(max_length=64)
    storage_key = fields.CharField(max_length=1024)
    size_bytes = fields.BigIntField(default=0)
    meta: fields.JSONField[Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "artifacts"
        unique_together = (("tenant", "stage", "content_hash"),)


from app.models.project import Project  # noqa: E402
from app.models.tenant import Tenant  # noqa: E402
from app.models.user import User  # noqa: E402
