"""Per-stage resource accounting, stage metrics, and the Sentry/log/trace scope of a stage run.

``record_stage_usage`` wraps one stage run. It measures CPU seconds, wall seconds, GPU seconds,
peak memory and bytes read/written, adds them to the stage run and its job in PostgreSQL (every
attempt counts: the resources were spent), prices them with ``settings.cost``, checks the
tenant's budget, and records the Prometheus series.

How it measures: a sampler thread reads this process's counters (psutil) every 0.25 s and
shares each delta evenly among the stage runs active in the process at that moment, so CPU,
I/O and GPU time are exact with one slot per worker and a fair split with several. Peak memory
is the process's peak resident size while the stage ran (an upper bound with several slots).
GPU seconds are the wall seconds of a run on a GPU worker that holds a CUDA device.

    async with record_stage_usage(ctx, job_id, "align", meta) as run:
        run.outcome = await run_stage(ctx, job_id, "align")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import psutil

from app import metrics as m
from app.config import Settings
from app.db import system_tx
from app.logs import log_context
from app.queue import GPU_QUEUE, now_ms
from app.tracing import current_trace_id, stage_span

log = logging.getLogger(__name__)
GIB = 1024**3
SAMPLE_EVERY_S = 0.25


@dataclass
class Usage:
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    gpu_seconds: float = 0.0
    peak_memory_bytes: int = 0
    bytes_read: int = 0
    bytes_written: int = 0

    def cost(self, settings: Settings) -> float:
        price = settings.cost
        return (self.cpu_seconds * price.cpu_second + self.gpu_seconds * price.gpu_second
                + self.peak_memory_bytes / GIB * self.wall_seconds * price.memory_gib_second
                + (self.bytes_read + self.bytes_written) / GIB * price.io_gib)


@dataclass
class StageRunScope:
    """What the caller fills in: the run's outcome (``done``, ``cached``, ``failed``, ...)."""

    outcome: str = "error"
    usage: Usage = field(default_factory=Usage)


class _Sampler:
    """One thread per process sharing resource deltas among the active stage runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, Usage] = {}
        self._thread: threading.Thread | None = None
        self._proc = psutil.Process()
        self._last = self._read()

    def _read(self) -> tuple[float, int, int, int]:
        cpu = self._proc.cpu_times()
        try:
            io = self._proc.io_counters()
            read, written = int(io.read_chars), int(io.write_chars)
        except (psutil.Error, AttributeError, NotImplementedError):  # no /proc/self/io in some sandboxes
            read = written = 0
        return cpu.user + cpu.system, read, written, int(self._proc.memory_info().rss)

    def sample(self) -> None:
        with self._lock:
            now = self._read()
            cpu, read, written = (now[i] - self._last[i] for i in range(3))
            self._last = now
            if not self._active:
                return
            share = len(self._active)
            for usage in self._active.values():
                usage.cpu_seconds += cpu / share
                usage.bytes_read += int(read / share)
                usage.bytes_written += int(written / share)
                usage.peak_memory_bytes = max(usage.peak_memory_bytes, now[3])

    def start(self, token: int) -> Usage:
        self.sample()  # deltas so far belong to the runs before this one
        usage = Usage()
        with self._lock:
            self._active[token] = usage
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="recap-usage-sampler", daemon=True)
                self._thread.start()
        self.sample()
        return usage

    def stop(self, token: int) -> Usage:
        self.sample()
        with self._lock:
            return self._active.pop(token)

    def _loop(self) -> None:
        while True:
            time.sleep(SAMPLE_EVERY_S)
            self.sample()
            with self._lock:
                if not self._active:
                    self._thread = None
                    return


_sampler: _Sampler | None = None


def sampler() -> _Sampler:
    global _sampler
    if _sampler is None:
        _sampler = _Sampler()
    return _sampler


def _has_gpu() -> bool:
    torch = sys.modules.get("torch")  # only when the stage already loaded torch: never import it here
    return bool(torch is not None and torch.cuda.is_available())


@contextlib.asynccontextmanager
async def record_stage_usage(ctx: dict[str, Any], job_id: str, stage: str, meta: dict[str, Any] | None = None
                             ) -> AsyncIterator[StageRunScope]:
    """Measure, tag and account one stage run (see the module doc); the caller sets ``scope.outcome``."""
    meta = meta or {}
    queue = str(ctx.get("queue_name") or "")
    tenant = str(meta.get("tenant") or "") or None
    if meta.get("enqueued_ms"):
        waited_s = max(0.0, (now_ms() - meta["enqueued_ms"]) / 1000)
        m.STAGE_WAIT.labels(queue, str(meta.get("class", ""))).observe(waited_s)
    scope = StageRunScope()
    token = id(scope)
    usage = sampler().start(token)
    started = time.perf_counter()
    m.STAGES_IN_PROGRESS.labels(stage).inc()
    m.WORKER_SLOTS_BUSY.labels(queue).inc()
    try:
        with stage_span(meta.get("trace"), stage, **{"recap.job_id": job_id}), \
                log_context(job_id=job_id, stage=stage, tenant_id=tenant, trace_id=current_trace_id()), \
                _sentry_scope(job_id, stage, tenant, queue):
            try:
                yield scope
            except asyncio.CancelledError:
                scope.outcome = "handed_back"
                raise
            except Exception:
                import sentry_sdk

                sentry_sdk.capture_exception()  # here, inside the tagged scope (the ARQ integration's copy dedupes)
                raise
    finally:
        m.STAGES_IN_PROGRESS.labels(stage).dec()
        m.WORKER_SLOTS_BUSY.labels(queue).dec()
        usage = sampler().stop(token)
        usage.wall_seconds = time.perf_counter() - started
        if queue == GPU_QUEUE and _has_gpu():
            usage.gpu_seconds = usage.wall_seconds
        scope.usage = usage
        _observe(stage, scope)
        with contextlib.suppress(Exception):  # accounting never turns a stage's result into an error
            await asyncio.shield(_account(ctx, job_id, stage, scope))


@contextlib.contextmanager
def _sentry_scope(job_id: str, stage: str, tenant: str | None, queue: str) -> Any:
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        scope.set_tag("job_id", job_id)
        scope.set_tag("stage", stage)
        scope.set_tag("queue", queue)
        if tenant:
            scope.set_tag("tenant_id", tenant)
        yield scope


def _observe(stage: str, scope: StageRunScope) -> None:
    u = scope.usage
    m.STAGE_DURATION.labels(stage, scope.outcome).observe(u.wall_seconds)
    m.STAGE_CPU.labels(stage).inc(u.cpu_seconds)
    m.STAGE_GPU.labels(stage).inc(u.gpu_seconds)
    m.STAGE_IO.labels(stage, "read").inc(u.bytes_read)
    m.STAGE_IO.labels(stage, "write").inc(u.bytes_written)


_ADD_USAGE = """
WITH s AS (
  UPDATE stage_runs SET cpu_seconds = cpu_seconds + $3, wall_seconds = wall_seconds + $4,
         gpu_seconds = gpu_seconds + $5, peak_memory_bytes = GREATEST(peak_memory_bytes, $6),
         bytes_read = bytes_read + $7, bytes_written = bytes_written + $8, cost = cost + $9
   WHERE job_id = $1 AND stage = $2 RETURNING job_id)
UPDATE jobs SET cpu_seconds = jobs.cpu_seconds + $3, wall_seconds = jobs.wall_seconds + $4,
       gpu_seconds = jobs.gpu_seconds + $5, peak_memory_bytes = GREATEST(jobs.peak_memory_bytes, $6),
       bytes_read = jobs.bytes_read + $7, bytes_written = jobs.bytes_written + $8, cost = jobs.cost + $9
  FROM s WHERE jobs.id = s.job_id
RETURNING jobs.id, jobs.tenant_id, jobs.state, jobs.error_code
"""


async def _account(ctx: dict[str, Any], job_id: str, stage: str, scope: StageRunScope) -> None:
    settings: Settings = ctx["settings"]
    u = scope.usage
    async with system_tx() as conn:
        rows = await conn.execute_query_dict(_ADD_USAGE, [
            job_id, stage, u.cpu_seconds, u.wall_seconds, u.gpu_seconds, u.peak_memory_bytes, u.bytes_read,
            u.bytes_written, u.cost(settings)])
    if not rows:
        return
    row = rows[0]
    if row["state"] in ("succeeded", "failed", "cancelled"):
        await _count_finished(ctx, job_id, row["state"], row["error_code"])
    from runners.budget import check_budget

    await check_budget(ctx, row["tenant_id"])


async def _count_finished(ctx: dict[str, Any], job_id: str, state: str, code: str | None) -> None:
    """Count a finished job once, whichever of its (parallel) stage runs saw the end first."""
    redis = ctx.get("redis")
    if redis is not None and not await redis.set(f"recap:finished:{job_id}", b"1", nx=True, ex=7 * 86400):
        return
    m.JOBS_FINISHED.labels(state, code or "").inc()


__all__ = ["StageRunScope", "Usage", "record_stage_usage", "sampler"]
