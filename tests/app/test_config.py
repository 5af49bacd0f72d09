"""Settings: environment variables, nested groups, and refusal of default secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEV_SECRET, Environment, Settings

STRONG = "s" * 40
SECRETS = {"RECAP_AUTH__JWT_SECRET": STRONG, "RECAP_SIGNING_SECRET": STRONG, "RECAP_WEBHOOK_SECRET": STRONG}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No RECAP_* / URL variables from the session leak into these settings."""
    import os

    for key in list(os.environ):
        if key.startswith("RECAP_") or key in ("DATABASE_URL", "REDIS_URL"):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.mark.parametrize("weak", sorted(SECRETS))
@pytest.mark.parametrize("value", [DEV_SECRET, "short-but-not-default"])
def test_production_refuses_default_or_short_secrets(clean_env: pytest.MonkeyPatch, weak: str, value: str) -> None:
    clean_env.setenv("RECAP_ENV", "production")
    for key, secret in SECRETS.items():
        clean_env.setenv(key, value if key == weak else secret)
    with pytest.raises(ValidationError, match=weak):
        Settings()


def test_production_accepts_strong_secrets(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RECAP_ENV", "production")
    for key, secret in SECRETS.items():
        clean_env.setenv(key, secret)
    settings = Settings()
    assert settings.is_production and settings.auth.jwt_secret == STRONG


@pytest.mark.parametrize("env", [Environment.DEVELOPMENT, Environment.TEST])
def test_development_and_test_allow_default_secrets(clean_env: pytest.MonkeyPatch, env: Environment) -> None:
    clean_env.setenv("RECAP_ENV", env.value)
    assert Settings().auth.jwt_secret == DEV_SECRET


def test_urls_nested_groups_and_derived_paths(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://u@h/db")
    clean_env.setenv("RECAP_REDIS_URL", "redis://h:1/2")
    clean_env.setenv("RECAP_DATA_DIR", str(tmp_path))
    clean_env.setenv("RECAP_AUTH__ACCESS_TTL_SECONDS", "120")
    clean_env.setenv("RECAP_DB_POOL_MAX", "3")
    settings = Settings()
    assert (settings.database_url, settings.redis_url) == ("postgresql://u@h/db", "redis://h:1/2")
    assert settings.auth.access_ttl_seconds == 120 and settings.db_pool_max == 3
    assert settings.storage_root == tmp_path / "storage"
    assert settings.db_app_role == "recap_app"


def test_unset_urls_mean_embedded_servers(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.database_url is None and settings.redis_url is None
    assert settings.env is Environment.DEVELOPMENT
