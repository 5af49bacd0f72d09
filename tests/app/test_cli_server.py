"""recap migrate / doctor / admin ... through typer's CliRunner against the session database."""

from __future__ import annotations

import asyncio
import socket
import uuid

import asyncpg
import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings, get_settings

runner = CliRunner()


def _query(url: str, sql: str, *args: object) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_migrate_twice_is_a_no_op(settings: Settings) -> None:
    for _ in range(2):
        result = runner.invoke(cli, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "database schema is up to date" in result.output


def test_admin_create_tenant_user_and_grant(settings: Settings) -> None:
    assert settings.database_url
    name = f"Acme Films {uuid.uuid4().hex[:6]}"
    slug = name.casefold().replace(" ", "-")
    email = f"Owner-{uuid.uuid4().hex[:6]}@Example.com"

    result = runner.invoke(cli, ["admin", "create-tenant", name])
    assert result.exit_code == 0, result.output
    assert f"tenant {slug} created" in result.output
    result = runner.invoke(cli, ["admin", "create-user", email, "--password-stdin", "--platform-admin"],
                           input="Sup3r-secret-pass\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["admin", "grant", email, slug, "admin"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["admin", "grant", email, slug, "owner"])  # replaces the role
    assert result.exit_code == 0, result.output

    role = _query(settings.database_url, "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id "
                  "JOIN tenants t ON t.id = m.tenant_id WHERE u.email = $1 AND t.slug = $2", email.casefold(), slug)
    assert role == "owner"
    stored = _query(settings.database_url, "SELECT password_hash FROM users WHERE email = $1", email.casefold())
    assert isinstance(stored, str) and stored.startswith("$argon2id$")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["admin", "grant", "nobody@example.com", "no-such-tenant", "viewer"], 1, "no user 'nobody@example.com'"),
    (["admin", "grant", "x@example.com", "t", "emperor"], 2, "emperor"),
    (["admin", "create-user", "weak@example.com", "--password", "short"], 2, "at least 10 characters"),
    (["admin", "create-user", "nopass@example.com"], 2, "--password-stdin"),
    (["serve", "--worker", "--reload"], 2, "cannot be combined"),
])
def test_bad_admin_input_fails_clearly(settings: Settings, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())


def test_duplicate_tenant_slug_is_refused(settings: Settings) -> None:
    slug = f"dup-{uuid.uuid4().hex[:6]}"
    assert runner.invoke(cli, ["admin", "create-tenant", "One", "--slug", slug]).exit_code == 0
    result = runner.invoke(cli, ["admin", "create-tenant", "Two", "--slug", slug])
    assert result.exit_code == 1
    assert "duplicate key" in result.output


def test_doctor_prints_a_table(settings: Settings) -> None:
    result = runner.invoke(cli, ["doctor"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for row in ("database", "migrations", "app role", "redis", "storage", "model: whisper tiny.en",
                "model: all-MiniLM-L6-v2", "PyAV / FFmpeg"):
        assert row in result.output
    assert "fail" not in result.output


def test_doctor_fails_when_redis_is_unreachable(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["doctor"], terminal_width=200)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "unreachable" in result.output
