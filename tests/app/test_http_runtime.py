"""The CLI's one embedded-stack helper: migrations run by themselves outside production only."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from app.cli.runtime import runtime_settings
from app.config import get_settings
from tests.conftest import with_path


async def _tables(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
    finally:
        await conn.close()


async def _create(admin_url: str, name: str, *, drop: bool = False) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.mark.parametrize(("env", "migrate", "migrated"), [
    ("production", None, False),
    ("production", True, True),
    ("development", None, True),
    ("development", False, False),
])
def test_runtime_settings_migrates_by_itself_outside_production_only(
        server_urls: tuple[str, str], env: str, migrate: bool | None, migrated: bool) -> None:
    name = f"recap_rt_{uuid.uuid4().hex[:10]}"
    admin = with_path(server_urls[0], "postgres")
    url = with_path(server_urls[0], name)
    asyncio.run(_create(admin, name))
    strong = "s" * 40
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in {"RECAP_ENV": env, "DATABASE_URL": url, "REDIS_URL": server_urls[1],
                               "RECAP_SIGNING_SECRET": strong, "RECAP_WEBHOOK_SECRET": strong,
                               "RECAP_AUTH__JWT_SECRET": strong}.items():
                mp.setenv(key, value)
            mp.delenv("RECAP_DATABASE_URL", raising=False)
            get_settings.cache_clear()
            chosen = runtime_settings() if migrate is None else runtime_settings(migrate=migrate)
            with chosen as settings:
                assert settings.database_url == url
        assert (asyncio.run(_tables(url)) > 0) is migrated
    finally:
        get_settings.cache_clear()
        asyncio.run(_create(admin, name, drop=True))
