"""The worker's disk fills up during assemble (a tmpfs of ``--size-mb``, filled to the last byte).

Expected: the job fails with a clear error that names the cause (the media layer's ``OUTPUT_FAILED: disk
full while writing ...``, or ENOSPC's "No space left on device" after the bounded retries elsewhere);
no file lies under a final name (no outputs, no assemble artifact, no half-written cache entry); the
usage counters are unchanged. Then the disk is freed, ``retryJob`` resumes the job from the failed
stage, and it completes with every invariant of :func:`check_render`.

Needs root (``mount -t tmpfs``); without it the suite says so and reports no run.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import check_render, job_state, new_job, running_stage, sample_film, stack, usage, wait_until


class NoTmpfs(Exception):
    pass


@contextlib.contextmanager
def tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise NoTmpfs(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write zeros until the file system refuses (ENOSPC)."""
    filler = folder / "filler.bin"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as ex:
            if ex.errno != errno.ENOSPC:
                raise
        small = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                f.write(small)
    return filler


def final_names(root: Path, tenant_id: Any, job_id: Any) -> list[str]:
    """Files under names that mean 'finished' for this job: outputs and the assemble artifact."""
    found = [str(p.relative_to(root)) for p in (root / "outputs" / str(job_id)).rglob("*") if p.is_file()]
    assemble = root / "intermediate" / str(tenant_id) / "cache" / "assemble"
    if assemble.is_dir():
        found += [str(p.relative_to(root)) for p in assemble.rglob("*") if p.is_file()]
    return found


async def scenario(work: Path, film: Any, size_mb: int, limit_s: float) -> list[str]:
    from app.services import render

    problems: list[str] = []
    with tmpfs(work / "data", size_mb):
        async with stack(work) as st:
            principal, job = await new_job(st, film, profile="720p")
            before = await usage(principal.tenant_id)
            worker = {"RECAP_WORKER__MAX_ATTEMPTS": "2", "RECAP_WORKER__RETRY_BASE_SECONDS": "0.5"}
            st.spawn_worker("worker", **worker)

            async def assembling() -> bool:
                return await running_stage(job.id) == "assemble"
            await wait_until(assembling, limit_s, "the assemble stage to start")
            filler = fill(st.settings.data_dir)

            async def ended() -> bool:
                return await job_state(job.id) in ("succeeded", "failed", "cancelled")
            await wait_until(ended, limit_s, "the job to fail on the full disk")
            from app.db import system_tx
            from app.models import Job

            async with system_tx():
                failed = await Job.get(id=job.id)
            message = f"{failed.error_code}: {failed.error_message}"
            said = (failed.error_message or "").lower()
            if failed.state.value != "failed" or not ("disk full" in said or "no space left" in said):
                problems.append(f"on a full disk the job ended {failed.state.value} with {message!r}")
            if leftovers := final_names(st.settings.storage_root, principal.tenant_id, job.id):
                problems.append(f"files under final names after the failure: {leftovers}")
            if await usage(principal.tenant_id) != before:
                problems.append("usage counters changed by the failed run")
            filler.unlink()
            await render.retry_job(principal, job.id, st.settings)
            await wait_until(ended, limit_s, "the retried job to end")
            problems += await check_render(st, principal, job.id, charged_before=before)
    return problems


def run(work: Path, size_mb: int, limit_s: float) -> tuple[int, list[str], dict[str, Any]]:
    film = sample_film(work / "film")
    try:
        problems = asyncio.run(scenario(work / "run", film, size_mb, limit_s))
    except NoTmpfs as ex:
        print(f"disk-full: not run: {ex}")
        return 0, [], {"not_run": str(ex)}
    print("disk-full:", problems if problems else "ok")
    return 1, problems, {"size_mb": size_mb}
