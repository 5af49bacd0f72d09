"""ARQ worker settings: ``cpu`` queue for media stages, ``gpu`` queue for upscaling.

Models load once per worker (lazily, on first use, held in ``ctx["models"]``); blocking
media work runs in threads with progress and cancel hooks; messages are JSON.

Each stage message runs inside ``record_stage_usage`` (resources, cost, metrics, the Sentry
scope, the log ids and the trace span). A queue keeper task gives due deferred and cron
messages their fair-share score (``app.queue.promote_due``). A worker serves its own
``/metrics`` when ``RECAP_OBSERVABILITY__WORKER_METRICS_PORT`` is set (``runners.metrics_server``).

Stopping (SIGTERM, e.g. a spot/preemptible node going away): the worker takes no new message,
lets running stages finish for ``RECAP_WORKER__STOP_WAIT_SECONDS``, then cancels the rest; a
cancelled stage releases its lease (state QUEUED) and its message stays in the queue with its
score, so another worker takes it at once.

    recap worker            # or: arq runners.worker.CpuWorker
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from typing import Any, ClassVar

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, create_worker
from redis.exceptions import RedisError

from app import metrics as m
from app.config import Settings, get_settings
from app.db import close_db, init_db
from app.queue import CPU_QUEUE, GPU_QUEUE, STAGE_FUNCTION, deserialize, promote_due, redis_settings, serialize
from app.storage import get_storage
from runners import governance
from runners.accounting import record_stage_usage
from runners.executor import run_stage
from runners.models import ModelCache
from runners.reconciler import reconcile

log = logging.getLogger(__name__)

#: Seconds a stopping worker waits for webhook deliveries still retrying.
WEBHOOK_DRAIN_S = 20.0


async def on_startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    if not ctx.get("db_ready"):
        await init_db(settings)
    ctx["storage"] = get_storage(settings)
    ctx["models"] = ctx.get("models") or ModelCache(settings)
    # arq hands each job a COPY of ctx: share one set object so on_shutdown sees every job's deliveries.
    ctx["background"] = set()
    import redis.asyncio as aioredis

    assert settings.redis_url
    ctx["redis"] = aioredis.Redis.from_url(settings.redis_url)
    ctx["workroot"] = str(settings.data_dir / "work")
    os.makedirs(ctx["workroot"], exist_ok=True)
    m.WORKER_SLOTS.labels(ctx.get("queue_name", "")).set(settings.worker.max_jobs)
    ctx["keeper"] = asyncio.create_task(_keep_queue(ctx))


async def _keep_queue(ctx: dict[str, Any], every_s: float = 1.0) -> None:
    """Re-score due deferred/cron messages (one keeper a second across workers, by a Redis lock)."""
    queue, settings = ctx.get("queue_name", CPU_QUEUE), ctx["settings"]
    while True:
        try:
            if await ctx["redis"].set(f"recap:keeper:{queue}", b"1", nx=True, px=int(every_s * 900)):
                await promote_due(ctx["redis"], queue, settings)
        except (RedisError, OSError):
            pass  # Redis is away: the worker itself notices and restarts (run_supervised)
        except Exception as ex:  # a bug here must not stop the keeper: deferred work would wait behind all else
            log.warning("queue keeper: %s: %s", type(ex).__name__, ex, exc_info=ex)
        await asyncio.sleep(every_s)


async def stage_message(ctx: dict[str, Any], job_id: str, stage_name: str, meta: dict[str, Any] | None = None
                        ) -> str:
    """The ARQ function of a stage message: the executor's ``run_stage`` inside the accounting scope."""
    async with record_stage_usage(ctx, job_id, stage_name, meta) as scope:
        scope.outcome = await run_stage(ctx, job_id, stage_name)
    return scope.outcome


async def on_shutdown(ctx: dict[str, Any]) -> None:
    keeper = ctx.get("keeper")
    if keeper is not None:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
    pending = list(ctx.get("background", ()))
    if pending:  # webhook deliveries still retrying: let them finish (bounded), they are the only copy
        await asyncio.wait(pending, timeout=WEBHOOK_DRAIN_S)
    await ctx["redis"].aclose()
    if not ctx.get("db_ready"):
        await close_db()


async def reconcile_cron(ctx: dict[str, Any]) -> None:
    counts = await reconcile(ctx)
    for action, count in counts.items():
        m.RECONCILER_ACTIONS.labels(action).inc(count)


async def gpu_heartbeat_cron(ctx: dict[str, Any]) -> None:
    """A GPU worker tells the API it is alive (startRender accepts ``upscale`` only then)."""
    import socket

    from app.gpu.heartbeat import record_heartbeat

    with contextlib.suppress(RedisError, OSError):
        await record_heartbeat(ctx["redis"], f"{socket.gethostname()}-{os.getpid()}")


async def clean_uploads_cron(ctx: dict[str, Any]) -> None:
    from app.uploads.cleanup import clean_expired_uploads

    await clean_expired_uploads(ctx["settings"])


def _functions() -> list[Any]:
    from arq.worker import func

    # keep_result=0: a finished message leaves no result key, so the same (job, stage, attempt) id can be
    # queued again later (a retry); while queued or running, the id dedupes.
    # Retries are ours (runners.executor: a new message per attempt, with backoff, within max_attempts);
    # arq only re-runs a message whose worker died or stopped mid-run, and claim_stage bounds those too.
    return [func(stage_message, name=STAGE_FUNCTION, max_tries=10, keep_result=0), *governance.FUNCTIONS]


gpu_heartbeat = cron(gpu_heartbeat_cron, second=set(range(0, 60, 10)), run_at_startup=True)


class CpuWorker:
    functions: ClassVar[list[Any]] = _functions()
    queue_name = CPU_QUEUE
    on_startup = on_startup
    on_shutdown = on_shutdown
    cron_jobs: ClassVar[list[Any]] = [cron(reconcile_cron, second={0, 15, 30, 45}, run_at_startup=True),
                                      cron(clean_uploads_cron, minute={7, 37}, second=0), *governance.CRONS]
    job_serializer = serialize
    job_deserializer = deserialize
    job_timeout = 6 * 3600
    keep_result = 60
    max_jobs = 2


def build_worker(settings: Settings | None = None, *, queue: str = CPU_QUEUE, burst: bool = False,
                 ctx: dict[str, Any] | None = None, handle_signals: bool = True, max_burst_jobs: int = -1) -> Worker:
    settings = settings or get_settings()
    assert settings.redis_url, "REDIS_URL must be set (the CLI starts an embedded server when it is unset)"
    rs: RedisSettings = redis_settings(settings.redis_url)
    crons = CpuWorker.cron_jobs if queue == CPU_QUEUE else [gpu_heartbeat]
    return create_worker(
        CpuWorker, redis_settings=rs, queue_name=queue, burst=burst, cron_jobs=crons,  # type: ignore[arg-type]
        ctx={"settings": settings, "queue_name": queue, **(ctx or {})}, max_jobs=settings.worker.max_jobs,
        handle_signals=handle_signals, poll_delay=0.2, job_completion_wait=settings.worker.stop_wait_seconds,
        max_burst_jobs=max_burst_jobs)


async def _run_once(settings: Settings, queue: str, burst: bool) -> None:
    worker = build_worker(settings, queue=queue, burst=burst)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        log.info("worker stopping (signal): stages in flight go back to the queue")
    finally:
        # arq's close() gathers the job tasks it cancelled and would re-raise their CancelledError before
        # on_shutdown ran: wait for them here, quietly, so on_shutdown (webhook drain) always runs.
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        worker.tasks.clear()
        with contextlib.suppress(RedisError, OSError):
            await worker.close()


def run_supervised(settings: Settings, *, queue: str = CPU_QUEUE, burst: bool = False) -> None:
    """Run a worker; when Redis goes away (restart, failover) start a fresh one instead of dying.

    Work in flight is safe: its stage run is in PostgreSQL, and the reconciler re-queues it.
    """
    from app.observability import init_sentry, setup_logging
    from app.tracing import init_tracing
    from runners.metrics_server import start_metrics_server

    setup_logging(settings.log_level, settings.observability.log_format)
    init_sentry(settings, component=f"worker-{queue.rsplit(':', 1)[-1]}")
    init_tracing(settings, service="recap-worker")
    start_metrics_server(settings)
    delay = 1.0
    while True:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_run_once(settings, queue, burst))
            break
        except (RedisError, OSError) as ex:
            log.warning("worker lost Redis (%s); starting again in %.0f s", ex, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        finally:
            loop.close()  # unlike asyncio.run, does not wait for media threads
    _exit_without_orphans()


def _exit_without_orphans(grace_s: float = 10.0) -> None:
    """Stages in flight were handed back; a media thread still running does work nobody will use.

    Give such threads a moment to see their cancel flag, then leave without joining them.
    """
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(
            t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        time.sleep(0.1)
    logging.shutdown()
    os._exit(0)


__all__ = ["GPU_QUEUE", "CpuWorker", "build_worker", "run_supervised"]
