"""recap admin set-platform-admin / set-plan / outbox, and one email normal form for CLI and API."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings
from tests.app.test_cli_server import _query

runner = CliRunner()


@dataclass
class Ran:
    exit_code: int
    output: str


def recap(settings: Settings, *args: str) -> Ran:
    """``recap admin ...`` in its own process (these commands run the ORM in their own event loop)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECAP_")}
    env.update({"DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
                "RECAP_ENV": "test", "RECAP_DATA_DIR": str(settings.data_dir)})
    done = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return Ran(done.returncode, done.stdout + done.stderr)


def test_platform_admin_flag_and_plans_from_the_cli(settings: Settings) -> None:
    assert settings.database_url
    slug = f"plan-{uuid.uuid4().hex[:6]}"
    email = f"Staff-{uuid.uuid4().hex[:6]}@Example.COM"
    assert runner.invoke(cli, ["admin", "create-tenant", "Plans", "--slug", slug]).exit_code == 0
    created = runner.invoke(cli, ["admin", "create-user", f"  {email} ", "--password-stdin"],
                            input="Tidal-Lantern-Quartz-88\n")
    assert created.exit_code == 0, created.output
    # The CLI stored the API's normal form (app.services.text.normalize_email).
    assert _query(settings.database_url, "SELECT count(*) FROM users WHERE email = $1", email.lower()) == 1

    granted = recap(settings, "admin", "set-platform-admin", email)
    assert granted.exit_code == 0, granted.output
    assert _query(settings.database_url, "SELECT is_platform_admin FROM users WHERE email = $1", email.lower())
    revoked = recap(settings, "admin", "set-platform-admin", email, "--revoke")
    assert revoked.exit_code == 0 and "no longer" in revoked.output, revoked.output
    assert not _query(settings.database_url, "SELECT is_platform_admin FROM users WHERE email = $1", email.lower())

    pro = recap(settings, "admin", "set-plan", slug, "pro")
    assert pro.exit_code == 0 and f"{slug} is on plan pro" in pro.output, pro.output
    limit = _query(settings.database_url, "SELECT q.concurrent_jobs FROM quota_policies q JOIN tenants t "
                   "ON t.id = q.tenant_id WHERE t.slug = $1", slug)
    assert limit == settings.plans["pro"].concurrent_jobs
    free = recap(settings, "admin", "set-plan", slug, "free")
    assert free.exit_code == 0, free.output
    assert _query(settings.database_url, "SELECT count(*) FROM quota_policies q JOIN tenants t "
                  "ON t.id = q.tenant_id WHERE t.slug = $1", slug) == 0
    unknown = recap(settings, "admin", "set-plan", slug, "platinum")
    assert unknown.exit_code == 1 and "unknown plan" in unknown.output, unknown.output
    nobody = recap(settings, "admin", "set-platform-admin", "nobody@example.com")
    assert nobody.exit_code == 1 and "NOT_FOUND" in nobody.output, nobody.output
    empty = recap(settings, "admin", "outbox", "nobody@example.com")
    assert empty.exit_code == 0 and "no messages" in empty.output


def test_plan_tiers_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as mp:
        mp.setenv("RECAP_PLANS", '{"team": {"concurrent_jobs": 5, "processing_minutes_per_month": 100, '
                                 '"storage_bytes": 10}}')
        custom = Settings()
    assert custom.plan_limits("free") == custom.quota
    limits = custom.plan_limits("team")
    assert limits is not None and limits.concurrent_jobs == 5
    assert custom.plan_limits("pro") is None  # RECAP_PLANS replaces the default tiers
    assert Settings().plan_limits("studio") is not None
