"""``recap admin`` account commands that go through the services: platform admins, plans, the dev outbox.

    recap admin set-platform-admin ann@example.com            # --revoke takes it back
    recap admin set-plan studio-b-1a2b3c pro                   # the tenant's limits become the plan's
    recap admin outbox bob@example.com                         # what was "sent" to an address (development)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer

from app.cli.runtime import runtime_settings
from app.cli.server import admin, console, err_console
from app.config import Settings


def _run(action: Callable[[Settings], Awaitable[str]]) -> None:
    """Run ``action(settings)`` with the ORM and Redis up; AppErrors end the command with exit code 1."""
    from app.db import close_db, init_db
    from app.errors import AppError
    from app.redis import close_redis

    async def run(settings: Settings) -> str:
        await init_db(settings)
        try:
            return await action(settings)
        finally:
            await close_redis()
            await close_db()

    with runtime_settings() as settings:
        try:
            console.print(asyncio.run(run(settings)))
        except AppError as ex:
            err_console.print(f"[red]{ex.code}: {ex.message}[/red]")
            raise typer.Exit(1) from ex


@admin.command("set-platform-admin")
def set_platform_admin(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the platform-admin flag back.")] = False,
) -> None:
    """Make a user a platform admin (quota policy and plans of every tenant); effective at once."""
    from app.services import auth

    async def apply(_: Settings) -> str:
        user_id = await auth.set_platform_admin(email, not revoke)
        return f"{email} is {'no longer ' if revoke else ''}a platform admin ({user_id})"

    _run(apply)


@admin.command("set-plan")
def set_plan(
    tenant_slug: Annotated[str, typer.Argument(help="The tenant's slug.")],
    plan: Annotated[str, typer.Argument(help="free, pro, studio (or a plan of RECAP_PLANS).")],
) -> None:
    """Move a tenant onto a plan tier; its quota limits become the plan's."""
    from app.auth.principal import Principal
    from app.db import system_tx
    from app.errors import NotFoundError
    from app.models import Tenant
    from app.services import quota

    async def apply(settings: Settings) -> str:
        async with system_tx() as conn:
            tenant = await Tenant.filter(slug=tenant_slug).using_db(conn).first()
        if tenant is None:
            raise NotFoundError(f"no tenant {tenant_slug!r}", "tenant")
        report = await quota.set_tenant_plan(Principal.operator(), tenant.id, plan, settings)
        return (f"{tenant_slug} is on plan {report.plan}: {report.concurrent_jobs_limit} jobs at once, "
                f"{report.processing_minutes_limit} min/month, {report.storage_bytes_limit} bytes")

    _run(apply)


@admin.command("outbox")
def outbox(email: Annotated[str, typer.Argument(help="The recipient's email.")]) -> None:
    """Print the newest messages sent to an address (the development outbox: invitations)."""
    from app.services import outbox as messages

    async def show(_: Settings) -> str:
        rows = await messages.messages_for(email)
        if not rows:
            return f"no messages for {email}"
        return "\n\n".join(f"[{m.created_at:%Y-%m-%d %H:%M}] {m.subject}\n{m.body}" for m in rows)

    _run(show)


def register(app: typer.Typer) -> None:
    """The commands are on ``recap admin`` (defined in app.cli.server); importing this module adds them."""
    del app
