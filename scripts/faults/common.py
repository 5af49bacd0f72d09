"""What every fault suite shares: a fresh database, workers as real processes, a job, the invariants.

A suite gets a :class:`Stack` (its own PostgreSQL database, created and dropped; the Redis URL it is
given; a temp data folder for storage), starts ``recap worker`` processes, breaks something, and then
checks the invariants of :func:`check_render`: the job succeeded, each cacheable artifact exists
once (one row, one folder), the final video decodes, the usage counters hold exactly one charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.config import Environment, Settings  # noqa: E402

CACHED_STAGES = ("ingest", "analyse", "transcribe", "moderate", "script", "align", "assemble", "finalize")


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@dataclass
class Stack:
    settings: Settings
    work: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def worker_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECAP_")}
        env.update({"DATABASE_URL": self.settings.database_url or "", "REDIS_URL": self.settings.redis_url or "",
                    "RECAP_ENV": "test", "RECAP_DATA_DIR": str(self.settings.data_dir),
                    "RECAP_STORAGE__ROOT": str(self.settings.storage_root), "PYTHONPATH": str(ROOT), **extra})
        return env

    def spawn_worker(self, log_name: str = "worker", **extra: str) -> subprocess.Popen[bytes]:
        log = open(self.work / f"{log_name}.log", "ab")  # noqa: SIM115 (the process owns it)
        proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "worker"],
                                env=self.worker_env(**extra), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@contextlib.asynccontextmanager
async def stack(work: Path, *, database_url: str | None = None, redis_url: str | None = None,
                **settings: Any) -> AsyncIterator[Stack]:
    """A fresh migrated database on the server of ``database_url`` (``DATABASE_URL``), dropped at the end."""
    import asyncpg

    from app.db import close_db, init_db, migrate

    server = database_url or os.environ["DATABASE_URL"]
    name = f"recap_fault_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(with_db(server, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_db(server, name)
    await migrate(url, app_role=Settings(env=Environment.TEST).db_app_role)
    data = work / "data"
    s = Settings(env=Environment.TEST, database_url=url, redis_url=redis_url or os.environ["REDIS_URL"], data_dir=data,
                 **settings)
    s.storage_root.mkdir(parents=True, exist_ok=True)
    await init_db(s)
    st = Stack(s, work)
    try:
        yield st
    finally:
        from app.queue import close_pool

        st.stop_all()
        from app.queue import drop_orphaned_messages

        drop_orphaned_messages(s.redis_url or "")
        await close_pool()  # the pool belongs to this event loop; the next suite run has its own
        await close_db()
        admin = await asyncpg.connect(with_db(server, "postgres"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def sample_film(folder: Path) -> Any:
    """The demo's generated film (~50 s, 5 scenes) and its script; reused when ``folder`` has it."""
    from media.samplefilm import build_sample_film
    from media.tts import PiperNarrator

    return build_sample_film(folder, PiperNarrator())


async def new_job(st: Stack, film: Any, *, profile: str = "source", tenant_name: str = "fault") -> tuple[Any, Any]:
    """A tenant, an editor, a project with the film and its script as READY assets, a started render."""
    from app.auth.principal import Principal
    from app.db import system_tx
    from app.models import Asset, AssetKind, AssetStatus, Membership, Project, Role, Tenant, User
    from app.services import render
    from app.storage import get_storage
    from media.probe import probe

    storage = get_storage(st.settings)
    async with system_tx():
        tenant = await Tenant.create(name=tenant_name, slug=f"{tenant_name}-{uuid.uuid4().hex[:8]}")
        user = await User.create(email=f"{uuid.uuid4().hex[:8]}@fault.example", display_name="f",
                                 password_hash="!")  # noqa: S106 (a hash no password matches: no sign-in)  # noqa: S106 (no login)
        await Membership.create(user_id=user.id, tenant_id=tenant.id, role=Role.EDITOR)
        project = await Project.create(tenant_id=tenant.id, name="fault")
    principal = Principal(user.id, tenant.id, Role.EDITOR)
    for path, kind in ((film.movie, AssetKind.SOURCE_VIDEO), (film.script, AssetKind.SCRIPT)):
        key = f"inputs/{tenant.id}/{project.id}/{uuid.uuid4().hex}{path.suffix}"
        await storage.put_file(key, path)
        async with system_tx():
            await Asset.create(tenant_id=tenant.id, project_id=project.id, kind=kind, status=AssetStatus.READY,
                               filename=path.name, storage_key=key, size_bytes=path.stat().st_size,
                               probe=probe(path).to_json() if kind is AssetKind.SOURCE_VIDEO else None,
                               sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    job = await render.start_render(principal, project.id, render.RenderOptions(profile=profile), st.settings)
    return principal, job


async def wait_until(predicate: Callable[[], Awaitable[bool]], limit_s: float, what: str) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"timed out after {limit_s:.0f} s waiting for {what}")


async def job_state(job_id: Any) -> str:
    from app.db import system_tx
    from app.models import Job

    async with system_tx():
        return str((await Job.get(id=job_id)).state.value)


async def running_stage(job_id: Any) -> str | None:
    from app.db import system_tx
    from app.models import StageRun, StageState

    async with system_tx():
        run = await StageRun.filter(job_id=job_id, state=StageState.RUNNING).first()
    return None if run is None else run.stage.value


async def usage(tenant_id: Any) -> dict[str, float]:
    from app.db import system_tx
    from app.models import UsageCounter

    async with system_tx():
        rows = await UsageCounter.filter(tenant_id=tenant_id)
    return {"processing_seconds": sum(r.processing_seconds for r in rows),
            "storage_bytes": float(sum(r.storage_bytes for r in rows))}


async def check_render(st: Stack, principal: Any, job_id: Any, *, charged_before: dict[str, float]) -> list[str]:
    """Problems with a finished render (empty: every invariant holds)."""
    import av

    from app.db import system_tx
    from app.models import Artifact, Job

    problems: list[str] = []
    async with system_tx():
        job = await Job.get(id=job_id)
        artifacts = await Artifact.filter(tenant_id=principal.tenant_id)
    if job.state.value != "succeeded":
        return [f"job {job.state.value}: {job.error_code}: {job.error_message}"]
    per_stage: dict[str, int] = {}
    for art in artifacts:
        per_stage[art.stage.value] = per_stage.get(art.stage.value, 0) + 1
    problems += [f"{n} {stage} artifacts (want 1)" for stage, n in per_stage.items() if n != 1]
    cache = st.settings.storage_root / "intermediate" / str(principal.tenant_id) / "cache"
    if cache.is_dir():
        for folder in cache.iterdir():
            entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
            if len(entries) != 1:
                problems.append(f"cache/{folder.name} holds {len(entries)} entries (want 1)")
    outputs = job.outputs or {}
    final = st.settings.storage_root / outputs.get("final.mp4", {}).get("key", "missing")
    try:
        with av.open(str(final)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        if frames < 24:
            problems.append(f"final.mp4 has {frames} frames")
    except (OSError, av.FFmpegError) as ex:
        problems.append(f"final.mp4 does not decode: {ex}")
    delivered = sum(int(v["size"]) for v in outputs.values())
    counters = await usage(principal.tenant_id)
    stored = counters["storage_bytes"] - charged_before["storage_bytes"]
    if stored != delivered:
        problems.append(f"storage counter moved by {stored:.0f} bytes, the outputs hold {delivered}")
    if counters["processing_seconds"] != charged_before["processing_seconds"]:
        problems.append("processing minutes charged again during the run")
    return problems


def report(name: str, runs: int, failures: list[str], out: Path | None, extra: dict[str, Any] | None = None) -> int:
    passed = runs - len(failures)
    line = f"{name}: {runs} runs, {passed} passed, " + ("nothing lost" if not failures else f"{len(failures)} FAILED")
    print(line)
    for failure in failures:
        print(f"  - {failure}")
    if out is not None:
        out.write_text(json.dumps({"suite": name, "runs": runs, "passed": passed, "failures": failures,
                                   **(extra or {})}, indent=1))
    return 0 if not failures else 1
