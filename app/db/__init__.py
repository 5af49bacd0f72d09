"""Database access: Tortoise ORM with two connections, tenant-scoped and system transactions.

"default" connects with the configured URL and switches to the app role at connection start
(``role`` in the startup packet, so ``RESET ALL``/``RESET ROLE`` on pooled connections keep it):
row-level security applies. "system" is the URL's own (owner) role: migrations, auth, workers.

    await init_db(settings)
    async with tenant_tx(tenant_id):
        projects = await Project.all()        # only this tenant's rows, enforced by PostgreSQL
    async with system_tx():
        user = await User.get_or_none(email=email)   # models run on "system" inside system_tx
    await close_db()
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connections
from tortoise.transactions import in_transaction

from app.config import Settings
from app.db.migrate import MigrationError, migrate

__all__ = ["MigrationError", "close_db", "init_db", "migrate", "parse_database_url", "system_tx",
           "tenant_tx", "tortoise_config"]

_init_count = 0


def parse_database_url(url: str) -> dict[str, Any]:
    """asyncpg keyword arguments from a ``postgresql://`` URL (incl. ``?host=/socket/dir``, ``sslmode``)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    user = unquote(parts.username) if parts.username else "postgres"
    params: dict[str, Any] = {
        "host": parts.hostname or query.get("host") or "127.0.0.1",
        "port": parts.port or int(query.get("port", "5432")),
        "user": user,
        "password": unquote(parts.password) if parts.password else None,
        "database": unquote(parts.path.lstrip("/")) or user,
    }
    if query.get("sslmode", "disable") not in ("disable", "allow", "prefer"):
        params["ssl"] = query["sslmode"]
    return params


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """Tortoise config: models bound to "default" (app role), plus the "system" connection."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (the CLI starts the embedded server when it is unset)")
    base = parse_database_url(settings.database_url)
    pool = {"minsize": settings.db_pool_min, "maxsize": settings.db_pool_max}
    app_creds = {**base, **pool, "server_settings": {"role": settings.db_app_role}}
    return {
        "connections": {
            "default": {"engine": "tortoise.backends.asyncpg", "credentials": app_creds},
            "system": {"engine": "tortoise.backends.asyncpg", "credentials": {**base, **pool}},
        },
        "apps": {"models": {"models": ["app.models"], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(settings: Settings) -> None:
    """Initialise Tortoise once per process; nested calls only count (see ``close_db``)."""
    global _init_count
    if _init_count == 0:
        # Global fallback: the lifespan task initialises, request tasks query.
        await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    _init_count += 1


async def close_db() -> None:
    """Close the pools when the last ``init_db`` caller is done."""
    global _init_count
    if _init_count == 0:
        return
    _init_count -= 1
    if _init_count == 0:
        await Tortoise.close_connections()


@asynccontextmanager
async def tenant_tx(tenant_id: UUID) -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction on "default" where row-level security shows only ``tenant_id``'s rows.

    Model queries inside use it automatically (Tortoise's transaction context); raw SQL goes
    through the yielded connection. Do not nest inside ``system_tx``.
    """
    async with in_transaction("default") as conn:
        await conn.execute_query("SELECT set_config('app.tenant_id', $1, true)", [str(tenant_id)])
        yield conn


@asynccontextmanager
async def system_tx() -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction on "system" (no tenant restriction): auth, workers, admin tasks only.

    Model queries inside run on it too: "default" is pointed at this transaction until exit.
    """
    async with in_transaction("system") as conn:
        token = get_connections().set("default", conn)
        try:
            yield conn
        finally:
            get_connections().reset(token)
