"""Render jobs from the API side: start (with atomic quota admission), cancel, retry, review.

The API records intent and enqueues; it never does media work. Quota admission takes a
per-tenant transaction-scoped advisory lock, so 100 concurrent ``startRender`` calls
against a limit of 3 admit exactly 3.

    job = await start_render(principal, project_id, RenderOptions(profile="720p"))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.expressions import F

from app.auth.principal import Principal
from app.config import Settings, get_settings
from app.db import tenant_tx
from app.errors import ConflictError, NotFoundError, QuotaExceededError, ValidationError
from app.models import Job, JobState, Project, Role, Stage, StageRun, StageState
from app.models.enums import ACTIVE_JOB_STATES, TERMINAL_JOB_STATES
from app.pipeline import ORDER, next_stages
from app.queue import enqueue_stage
from app.services import quota, render_events
from app.services.counters import add_usage
from app.services.render_inputs import check_option_assets
from app.services.text import check_script_text, clean_name, parse_uuids

PROFILES = ("1080p", "720p", "source")
NARRATIONS = ("tts", "recorded", "none")


@dataclass(frozen=True)
class RenderOptions:
    profile: str = "720p"
    narration: str = "tts"
    narration_asset_id: str | None = None
    script_asset_id: str | None = None
    script_text: str | None = None
    source_asset_ids: list[str] = field(default_factory=list)
    #: False, True (defaults) or ``{"model", "target": "UHD_4K" | "NATIVE", "tile", "chunk_seconds"}``.
    upscale: bool | dict[str, Any] = False
    burn_captions: bool = False
    review: bool = False
    title: str | None = None
    words_per_minute: float = 160.0

    def __post_init__(self) -> None:
        """Every option is checked here, before anything reaches the database (ids in canonical form)."""
        if self.profile not in PROFILES:
            raise ValidationError(f"profile must be one of {', '.join(PROFILES)}", "profile")
        if self.narration not in NARRATIONS:
            raise ValidationError(f"narration must be one of {', '.join(NARRATIONS)}", "narration")
        if self.script_text is not None:
            check_script_text(self.script_text, field="scriptText")
        if not 60.0 <= self.words_per_minute <= 400.0:
            raise ValidationError("wordsPerMinute must be between 60 and 400", "wordsPerMinute")
        if isinstance(self.upscale, dict):
            _check_upscale(self.upscale)
        if self.title is not None:
            object.__setattr__(self, "title", clean_name(self.title, field="title", allow_empty=True) or None)
        object.__setattr__(self, "source_asset_ids", parse_uuids(list(self.source_asset_ids),
                                                                 field="sourceAssetIds"))
        for name, field_name in (("script_asset_id", "scriptAssetId"), ("narration_asset_id", "narrationAssetId")):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_uuids([value], field=field_name)[0])

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "")}


UPSCALE_MODELS = ("realesr-animevideov3", "realesr-general-x4v3", "RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B")
UPSCALE_TARGETS = ("UHD_4K", "NATIVE")


def _check_upscale(value: dict[str, Any]) -> None:
    if value.get("model", UPSCALE_MODELS[0]) not in UPSCALE_MODELS:
        raise ValidationError(f"upscale.model must be one of {', '.join(UPSCALE_MODELS)}", "upscale.model")
    if value.get("target", "UHD_4K") not in UPSCALE_TARGETS:
        raise ValidationError("upscale.target must be UHD_4K or NATIVE", "upscale.target")
    tile = value.get("tile", 0)
    if not isinstance(tile, int) or (tile != 0 and not 32 <= tile <= 4096):
        raise ValidationError("upscale.tile must be 0 (automatic) or 32..4096", "upscale.tile")
    chunk = value.get("chunk_seconds", 10.0)
    if not isinstance(chunk, int | float) or not 1.0 <= chunk <= 600.0:
        raise ValidationError("upscale.chunkSeconds must be 1..600", "upscale.chunkSeconds")


async def _gpu_available(settings: Settings) -> bool:
    """A GPU worker heartbeated within the last minute (or the deployment pins ``worker.gpu_enabled``)."""
    if settings.worker.gpu_enabled:
        return True
    from app.gpu.heartbeat import gpu_worker_alive
    from app.redis import get_redis

    return await gpu_worker_alive(get_redis(settings))


def _period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


async def _project(conn: Any, principal: Principal, project_id: UUID | str) -> Project:
    project = await Project.filter(id=project_id, tenant_id=principal.tenant_id).using_db(conn).first()
    if project is None:
        raise NotFoundError("project not found", "projectId")
    return project


async def _job(conn: Any, principal: Principal, job_id: UUID | str, *, lock: bool = False) -> Job:
    query = Job.filter(id=job_id, tenant_id=principal.tenant_id).using_db(conn)
    job = await (query.select_for_update().first() if lock else query.first())
    if job is None:
        raise NotFoundError("job not found", "jobId")
    return job


async def _source_seconds(conn: Any, principal: Principal, project: Project, options: RenderOptions) -> float:
    assets = await check_option_assets(conn, principal.tenant_id, project.id, options)
    return sum(float((a.probe or {}).get("duration") or 0.0) for a in assets)


async def _admit(conn: Any, tenant_id: UUID, seconds: float, settings: Settings) -> None:
    """Check concurrent jobs and monthly minutes under a per-tenant lock, then charge the minutes."""
    await quota.lock_tenant_quota(conn, tenant_id)
    rows = await conn.execute_query_dict(
        "SELECT concurrent_jobs, processing_minutes_per_month FROM quota_policies WHERE tenant_id = $1",
        [str(tenant_id)])
    limit_jobs = rows[0]["concurrent_jobs"] if rows else settings.quota.concurrent_jobs
    limit_minutes = rows[0]["processing_minutes_per_month"] if rows else settings.quota.processing_minutes_per_month
    active = await Job.filter(tenant_id=tenant_id, state__in=list(ACTIVE_JOB_STATES)).using_db(conn).count()
    if active >= limit_jobs:
        raise QuotaExceededError(f"{active} jobs are running; the limit is {limit_jobs}", "concurrentJobs")
    used = await conn.execute_query_dict(
        "SELECT processing_seconds FROM usage_counters WHERE tenant_id = $1 AND period = $2",
        [str(tenant_id), _period()])
    used_s = float(used[0]["processing_seconds"]) if used else 0.0
    if used_s + seconds > limit_minutes * 60:
        raise QuotaExceededError(
            f"this render needs {seconds / 60:.1f} min; {max(0.0, limit_minutes - used_s / 60):.1f} of "
            f"{limit_minutes} min are left this month", "processingMinutes")
    await add_usage(conn, tenant_id, _period(), processing_seconds=seconds)


async def start_render(principal: Principal, project_id: UUID | str, options: RenderOptions,
                       settings: Settings | None = None) -> Job:
    """Create a job with its stage runs and queue the first stage.

    Raises:
        NotFoundError: the project, or an asset the options name, is not the caller's tenant's project's.
        ValidationError: bad options, no source video, or a named asset of the wrong kind
            (``WRONG_ASSET_KIND``) or not ready (``ASSET_NOT_READY``).
        QuotaExceededError: concurrent jobs or monthly minutes would be exceeded.
    """
    principal.require(Role.EDITOR)
    settings = settings or get_settings()
    if options.upscale and not await _gpu_available(settings):
        raise ValidationError("4K upscaling needs a GPU worker, and none has checked in recently", "upscale",
                              code="UPSCALE_UNAVAILABLE")
    async with tenant_tx(principal.tenant_id) as conn:
        project = await _project(conn, principal, project_id)
        seconds = await _source_seconds(conn, principal, project, options)
        await _admit(conn, principal.tenant_id, seconds, settings)
        job = await Job.create(tenant_id=principal.tenant_id, project_id=project.id, created_by_id=principal.user_id,
                               state=JobState.QUEUED, options=options.to_json(), source_seconds=seconds,
                               using_db=conn)
        for stage in ORDER:
            skipped = stage is Stage.UPSCALE and not options.upscale
            await StageRun.create(tenant_id=principal.tenant_id, job_id=job.id, stage=stage,
                                  state=StageState.SKIPPED if skipped else StageState.PENDING, using_db=conn)
        await StageRun.filter(job_id=job.id, stage=Stage.INGEST).using_db(conn).update(state=StageState.QUEUED)
    await enqueue_stage(job.id, Stage.INGEST, attempt=1, settings=settings)
    await render_events.job_event(principal.tenant_id, job, "queued")
    return job


async def cancel_job(principal: Principal, job_id: UUID | str) -> Job:
    """Stop a job; running media work sees the cancel within about half a second."""
    principal.require(Role.EDITOR)
    async with tenant_tx(principal.tenant_id) as conn:
        job = await _job(conn, principal, job_id, lock=True)
        if job.state in TERMINAL_JOB_STATES:
            raise ConflictError(f"the job already ended ({job.state.value})", "jobId")
        job.state, job.finished_at = JobState.CANCELLED, datetime.now(UTC)
        await job.save(using_db=conn)
        await StageRun.filter(job_id=job.id, state__in=[StageState.PENDING, StageState.QUEUED, StageState.RUNNING]
                              ).using_db(conn).update(state=StageState.CANCELLED)
    await render_events.signal_cancel(job.id)
    await render_events.job_event(principal.tenant_id, job, "cancelled")
    return job


async def retry_job(principal: Principal, job_id: UUID | str, settings: Settings | None = None) -> Job:
    """Resume a failed or cancelled job from the stage that stopped; finished stages are kept."""
    principal.require(Role.EDITOR)
    settings = settings or get_settings()
    async with tenant_tx(principal.tenant_id) as conn:
        job = await _job(conn, principal, job_id, lock=True)
        if job.state not in (JobState.FAILED, JobState.CANCELLED):
            raise ConflictError(f"only a failed or cancelled job can be retried (this one is {job.state.value})",
                                "jobId")
        await quota.lock_tenant_quota(conn, principal.tenant_id)
        await StageRun.filter(job_id=job.id, state__in=[StageState.FAILED, StageState.CANCELLED, StageState.RUNNING,
                                                        StageState.QUEUED]).using_db(conn).update(
            state=StageState.PENDING, error_code=None, error_message=None, lease_expires_at=None,
            attempts_before=F("attempt"))  # a fresh attempt budget; attempt numbers keep counting
        runs = await StageRun.filter(job_id=job.id).using_db(conn)
        ready = next_stages({r.stage: r.state for r in runs})
        await StageRun.filter(job_id=job.id, stage__in=ready).using_db(conn).update(state=StageState.QUEUED)
        job.state, job.finished_at = JobState.QUEUED, None
        job.error_code = job.error_message = None  # type: ignore[assignment]
        await job.save(using_db=conn)
        attempts = {r.stage: r.attempt for r in runs}
    await render_events.clear_cancel(job.id)
    for stage in ready:
        await enqueue_stage(job.id, stage, attempt=attempts.get(stage, 0) + 1, settings=settings)
    await render_events.job_event(principal.tenant_id, job, "queued")
    return job


async def get_job(principal: Principal, job_id: UUID | str) -> Job:
    async with tenant_tx(principal.tenant_id) as conn:
        return await _job(conn, principal, job_id)
