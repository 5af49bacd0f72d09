"""recap admin set-platform-admin / set-plan / outbox, and one email normal form for CLI and API."""

from __future__ import annotations

import uuid

from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings
from tests.app.test_cli_server import _query

runner = CliRunner()


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

    granted = runner.invoke(cli, ["admin", "set-platform-admin", email])
    assert granted.exit_code == 0, granted.output
    assert _query(settings.database_url, "SELECT is_platform_admin FROM users WHERE email = $1", email.lower())
    revoked = runner.invoke(cli, ["admin", "set-platform-admin", email, "--revoke"])
    assert revoked.exit_code == 0 and "no longer" in revoked.output, revoked.output
    assert not _query(settings.database_url, "SELECT is_platform_admin FROM users WHERE email = $1", email.lower())

    pro = runner.invoke(cli, ["admin", "set-plan", slug, "pro"])
    assert pro.exit_code == 0 and f"{slug} is on plan pro" in pro.output, pro.output
    limit = _query(settings.database_url, "SELECT q.concurrent_jobs FROM quota_policies q JOIN tenants t "
                   "ON t.id = q.tenant_id WHERE t.slug = $1", slug)
    assert limit == settings.plans["pro"].concurrent_jobs
    free = runner.invoke(cli, ["admin", "set-plan", slug, "free"])
    assert free.exit_code == 0, free.output
    assert _query(settings.database_url, "SELECT count(*) FROM quota_policies q JOIN tenants t "
                  "ON t.id = q.tenant_id WHERE t.slug = $1", slug) == 0
    unknown = runner.invoke(cli, ["admin", "set-plan", slug, "platinum"])
    assert unknown.exit_code == 1 and "unknown plan" in unknown.output, unknown.output
    nobody = runner.invoke(cli, ["admin", "set-platform-admin", "nobody@example.com"])
    assert nobody.exit_code == 1 and "NOT_FOUND" in nobody.output, nobody.output
    empty = runner.invoke(cli, ["admin", "outbox", "nobody@example.com"])
    assert empty.exit_code == 0 and "no messages" in empty.output
