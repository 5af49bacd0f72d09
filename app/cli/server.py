"""Server commands: ``serve``, ``migrate``, ``export-schema``, ``doctor`` and ``admin ...``.

With ``DATABASE_URL`` / ``REDIS_URL`` unset, each command starts (or reuses) the embedded
PostgreSQL and Valkey under ``RECAP_DATA_DIR`` and stops them on exit. Outside production,
commands that use the database apply pending migrations first.

    recap serve --worker                 # API + in-process worker on http://127.0.0.1:8000
    recap admin create-tenant "Acme"     # then create-user / grant
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.cli.runtime import apply_migrations, runtime_settings
from app.config import Settings, get_settings
from app.models.enums import Role
from app.services.text import slugify

if TYPE_CHECKING:
    from asyncpg import Connection

console = Console()
err_console = Console(stderr=True)
admin = typer.Typer(help="Tenants, users and memberships.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the recap app."""
    app.command()(serve)
    app.command()(migrate)
    app.command("export-schema")(export_schema)
    app.command()(doctor)
    app.add_typer(admin, name="admin")


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    worker: Annotated[bool, typer.Option("--worker", help="Also run a job worker in this process.")] = False,
    reload: Annotated[bool, typer.Option("--reload", help="Restart on code changes (development).")] = False,
) -> None:
    """Run the API server (uvicorn); embedded PostgreSQL/Valkey when the URLs are unset."""
    import uvicorn

    from app.observability import setup_logging

    if worker and reload:
        raise typer.BadParameter("--worker and --reload cannot be combined; run `recap worker` beside it")
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that kills the
    # process before the embedded servers stop. Exiting by exception unwinds the context managers instead.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with runtime_settings() as settings:
        setup_logging(settings.log_level, settings.observability.log_format)
        err_console.print(f"Recap API on http://{host}:{port}/graphql  (health: /healthz, /readyz)")
        if reload:
            uvicorn.run("app.main:create_app", factory=True, host=host, port=port, reload=True)
        elif worker:
            asyncio.run(_serve_with_worker(settings, host, port))
        else:
            from app.main import create_app

            uvicorn.run(create_app(settings), host=host, port=port)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _serve_with_worker(settings: Settings, host: str, port: int) -> None:
    import uvicorn
    from redis.exceptions import RedisError

    from app.main import create_app

    try:  # the runners package is only needed here (ARCHITECTURE: only the CLI imports runners)
        from runners.worker import build_worker
    except ImportError as ex:
        err_console.print(f"[red]--worker needs the runners package, which cannot be imported: {ex}[/red]")
        raise typer.Exit(1) from ex
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port))
    job_worker = build_worker(settings, handle_signals=False)
    worker_task = asyncio.create_task(job_worker.async_run())
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        await asyncio.gather(worker_task, return_exceptions=True)
        try:
            await job_worker.close()
        except (OSError, RedisError) as ex:  # Ctrl-C also reaches the embedded Valkey, which may be gone
            err_console.print(f"worker closed without Redis: {ex}")


def migrate() -> None:
    """Apply pending database migrations (a no-op when up to date)."""
    with runtime_settings(migrate=False) as settings:
        applied = apply_migrations(settings)
    console.print(f"applied: {', '.join(applied)}" if applied else "database schema is up to date")


def export_schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the GraphQL schema (SDL)."""
    from strawberry.printer import print_schema

    try:
        from app.graphql.schema import schema
    except ImportError as ex:
        err_console.print(f"[red]the GraphQL schema cannot be imported: {ex}[/red]")
        raise typer.Exit(1) from ex
    sdl = print_schema(schema) + "\n"
    if out is None:
        sys.stdout.write(sdl)
    else:
        out.write_text(sdl, encoding="utf-8")
        err_console.print(f"wrote {out}")


def doctor() -> None:
    """Check database, migrations, Redis, storage, models and media libraries; exit 1 on a failure."""
    from app.doctor import Status, run_checks

    with runtime_settings(migrate=False) as settings:
        checks = asyncio.run(run_checks(settings))
    table = Table(title="recap doctor")
    table.add_column("check", no_wrap=True)
    table.add_column("status")
    table.add_column("detail", overflow="fold")  # paths stay whole, wrapped
    colour = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
    for check in checks:
        table.add_row(check.name, f"[{colour[check.status]}]{check.status.value}[/]", check.detail)
    console.print(table)
    if any(check.status is Status.FAIL for check in checks):
        raise typer.Exit(1)


# --- admin ----------------------------------------------------------------------------------------

def _db(action: Callable[[Connection], Awaitable[str]]) -> None:
    """Run an admin coroutine ``f(conn)`` on the system connection; print its result."""
    import asyncpg

    async def run(url: str) -> str:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                return await action(conn)
        finally:
            await conn.close()

    with runtime_settings() as settings:
        assert settings.database_url
        try:
            console.print(asyncio.run(run(settings.database_url)))
        except (LookupError, ValueError, asyncpg.UniqueViolationError) as ex:
            err_console.print(f"[red]{ex}[/red]")
            raise typer.Exit(1) from ex


def _forget_access(user_ids: list[Any]) -> None:
    """Drop the cached roles of ``user_ids`` (the change committed), so it applies on their next request."""
    import redis.asyncio as aioredis

    from app.auth.access import invalidate

    url = get_settings().redis_url

    async def run() -> None:
        client = aioredis.Redis.from_url(url or "", socket_connect_timeout=5)  # its own: this is a new event loop
        try:
            for user_id in user_ids:
                await invalidate(client, user_id)
        finally:
            await client.aclose()

    if user_ids and url:
        asyncio.run(run())


@admin.command("create-tenant")
def create_tenant(
    name: Annotated[str, typer.Argument(help="Display name.")],
    slug: Annotated[str | None, typer.Option(help="URL-safe id; derived from the name by default.")] = None,
) -> None:
    """Create a tenant."""
    async def create(conn: Connection) -> str:
        row = await conn.fetchrow(
            "INSERT INTO tenants (name, slug) VALUES ($1, $2) RETURNING id, slug", name,
            slug or slugify(name, unique=False))
        return f"tenant {row['slug']} created: {row['id']}"

    _db(create)


@admin.command("create-user")
def create_user(
    email: Annotated[str, typer.Argument(help="Login email.")],
    password: Annotated[str | None, typer.Option(help="Password (prefer --password-stdin).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    platform_admin: Annotated[bool, typer.Option("--platform-admin", help="May manage every tenant.")] = False,
) -> None:
    """Create a user (argon2id password hash)."""
    from app.auth.passwords import check_password_policy, hash_password_sync, password_hasher
    from app.errors import ValidationError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise typer.BadParameter("give --password or --password-stdin")
    from app.services.text import normalize_email

    email = normalize_email(email)
    try:
        check_password_policy(password, email)
    except ValidationError as ex:
        raise typer.BadParameter(str(ex)) from ex
    hashed = hash_password_sync(password_hasher(get_settings().auth), password)

    async def create(conn: Connection) -> str:
        row = await conn.fetchrow(
            "INSERT INTO users (email, password_hash, is_platform_admin) VALUES ($1, $2, $3) RETURNING id",
            email, hashed, platform_admin)
        return f"user {email} created: {row['id']}"

    _db(create)


@admin.command("grant")
def grant(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    tenant_slug: Annotated[str, typer.Argument(help="The tenant's slug.")],
    role: Annotated[Role, typer.Argument(help="owner, admin, editor or viewer.")],
) -> None:
    """Give a user a role in a tenant (replaces an existing role)."""
    from app.services.text import normalize_email

    async def upsert(conn: Connection) -> str:
        user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", normalize_email(email))
        tenant_id = await conn.fetchval("SELECT id FROM tenants WHERE slug = $1", tenant_slug)
        if user_id is None or tenant_id is None:
            raise LookupError(f"no user {email!r}" if user_id is None else f"no tenant {tenant_slug!r}")
        await conn.execute(
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) "
            "ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role", tenant_id, user_id, role.value)
        changed.append(user_id)
        return f"{email} is {role.value} of {tenant_slug}"

    changed: list[Any] = []

    _db(upsert)
    _forget_access(changed)
