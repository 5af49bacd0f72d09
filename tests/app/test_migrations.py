"""Migrations: apply on an empty database, idempotent, serialised, and in sync with the models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from tortoise.connection import get_connections
from tortoise.utils import get_schema_sql

from app.db import migrate
from app.db.migrate import MigrationError, load_migrations, pending_migrations
from tests.conftest import with_path

ScratchDb = Callable[[], Awaitable[str]]

COLUMNS = """
SELECT table_name, column_name, data_type, character_maximum_length AS max_length, is_nullable
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
ORDER BY table_name, column_name
"""
# Unique and foreign-key constraints as (table, kind, columns, referenced table, on delete).
CONSTRAINTS = """
SELECT c.conrelid::regclass::text AS table_name, c.contype AS kind,
       (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
         WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) AS columns,
       c.confrelid::regclass::text AS target, c.confdeltype AS on_delete
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE n.nspname = 'public' AND c.contype IN ('u', 'f', 'p') AND c.conrelid::regclass::text <> 'schema_migrations'
"""


def _constraint(row: asyncpg.Record) -> tuple[object, ...]:
    return (row["table_name"], row["kind"], tuple(row["columns"]), row["target"], row["on_delete"])


@pytest.fixture
async def scratch_db(server_urls: tuple[str, str]) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Factory of empty databases on the test server, dropped after the test."""
    admin = await asyncpg.connect(with_path(server_urls[0], "postgres"))
    names: list[str] = []

    async def create() -> str:
        name = f"recap_t_{uuid.uuid4().hex[:12]}"
        names.append(name)
        await admin.execute(f'CREATE DATABASE "{name}"')
        return with_path(server_urls[0], name)

    yield create
    for name in names:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_migrations_apply_on_empty_database_and_are_idempotent(scratch_db: ScratchDb) -> None:
    url = await scratch_db()
    names = [m.name for m in load_migrations()]
    assert names and names[0] == "0001_init" and names == sorted(names)
    assert await migrate(url) == names
    assert await migrate(url) == []
    conn = await asyncpg.connect(url)
    try:
        recorded = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")]
        assert recorded == names
        assert await pending_migrations(conn) == []
    finally:
        await conn.close()


async def test_concurrent_migrations_apply_once(scratch_db: ScratchDb) -> None:
    url = await scratch_db()
    results = await asyncio.gather(migrate(url), migrate(url), migrate(url))
    assert sorted(results, key=len) == [[], [], [m.name for m in load_migrations()]]


async def test_edited_migration_is_refused(scratch_db: ScratchDb) -> None:
    url = await scratch_db()
    await migrate(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE name = '0001_init'")
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="0001_init was changed"):
        await migrate(url)


async def test_migrated_schema_matches_the_models(scratch_db: ScratchDb, database: str, orm: None) -> None:
    """The live schema (from the SQL files) equals what Tortoise generates from the models."""
    models_url = await scratch_db()
    conn = await asyncpg.connect(models_url)
    try:
        await conn.execute(get_schema_sql(get_connections().get("default"), safe=False))
        expected_columns = [tuple(r) for r in await conn.fetch(COLUMNS)]
        expected_constraints = sorted(_constraint(r) for r in await conn.fetch(CONSTRAINTS))
    finally:
        await conn.close()
    conn = await asyncpg.connect(database)
    try:
        live_columns = [tuple(r) for r in await conn.fetch(COLUMNS)]
        live_constraints = sorted(_constraint(r) for r in await conn.fetch(CONSTRAINTS))
    finally:
        await conn.close()
    assert len(expected_columns) > 100 and len(expected_constraints) > 30
    assert sorted(set(live_columns) ^ set(expected_columns)) == []
    assert sorted(set(live_constraints) ^ set(expected_constraints)) == []
