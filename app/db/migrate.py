"""Apply the numbered SQL migrations in ``app/db/migrations`` and set up the app role.

Each file runs in its own transaction and is recorded (with its sha256) in
``schema_migrations``; a session advisory lock keeps two processes from migrating at
once, so ``recap migrate`` twice (or two pods starting together) is a no-op the second time.

    applied = await migrate("postgresql://postgres@127.0.0.1:5432/recap")
    # ['0001_init']   then []   on the next call
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

#: pg_advisory_lock key of the migrator ("recap" in ASCII).
_LOCK_KEY = 0x7265636170
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationError(RuntimeError):
    """A migration failed, or an applied one was edited afterwards."""

    code = "MIGRATION_FAILED"


@dataclass(frozen=True)
class Migration:
    name: str  # file stem, e.g. "0001_init"
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    """The migration files shipped in the package, in name order."""
    folder = resources.files("app.db") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def migrate(database_url: str, *, app_role: str | None = None) -> list[str]:
    """Apply pending migrations, then (re)create the app role and its grants.

    Args:
        database_url: URL of the database, connecting as its owner (or a superuser).
        app_role: role the API runs queries as; default ``settings.db_app_role``.

    Returns:
        Names of the migrations applied by this call (empty when already current).

    Raises:
        MigrationError: a migration failed, or an applied migration's file changed.
    """
    if app_role is None:
        from app.config import get_settings

        app_role = get_settings().db_app_role
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            applied = await _apply_pending(conn)
            await ensure_app_role(conn, app_role)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()
    return applied


async def pending_migrations(conn: asyncpg.Connection) -> list[str]:
    """Names of shipped migrations not yet recorded in this database."""
    exists = await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")} if exists else set()
    return [m.name for m in load_migrations() if m.name not in done]


async def _apply_pending(conn: asyncpg.Connection) -> list[str]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    done = {r["name"]: r["checksum"] for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")}
    applied: list[str] = []
    for migration in load_migrations():
        if migration.name in done:
            if done[migration.name] != migration.checksum:
                raise MigrationError(f"migration {migration.name} was changed after it was applied; "
                                     "add a new numbered migration instead")
            continue
        try:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                                   migration.name, migration.checksum)
        except asyncpg.PostgresError as ex:
            raise MigrationError(f"migration {migration.name} failed: {ex}") from ex
        applied.append(migration.name)
    return applied


async def ensure_app_role(conn: asyncpg.Connection, role: str) -> None:
    """Create the app role if missing (cluster-wide) and grant it DML on this database's tables.

    The role never owns anything and must not bypass row-level security; one that does is refused.
    """
    if not _ROLE_NAME.match(role):
        raise MigrationError(f"invalid app role name {role!r} (lower-case letters, digits, _)")
    # Roles are cluster-wide: concurrent test sessions may race to create it, hence the handler.
    await conn.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; END IF; '
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    row = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", role)
    if row is None or row["rolsuper"] or row["rolbypassrls"]:
        raise MigrationError(f"app role {role!r} must exist without SUPERUSER and BYPASSRLS")
    async with conn.transaction():
        await conn.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        await conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
        await conn.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        await conn.execute(f'REVOKE ALL ON schema_migrations FROM "{role}"')
        # The app connection switches to the role (SET ROLE); a non-superuser owner needs membership.
        if not await conn.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", role):
            await conn.execute(f'GRANT "{role}" TO CURRENT_USER')
