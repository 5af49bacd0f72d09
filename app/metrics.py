"""Prometheus metrics of every Recap process, and the API's ``/metrics`` handler.

Naming follows Prometheus' rules: base units (seconds, bytes), ``_total`` on counters, and no
tenant, job or user ids as labels (unbounded cardinality); labels are small closed sets (stage,
outcome, error code, queue). Each process has its own registry: the API serves it on
``/metrics`` (the queue gauges are refreshed from Redis at scrape time, so they exist even when
workers are scaled to zero: KEDA's trigger reads them); a worker serves its own with
``runners.metrics_server`` (``RECAP_OBSERVABILITY__WORKER_METRICS_PORT``).

HTTP routes are labelled by their template (``/uploads/{id}``), never the raw path;
unmatched paths share the label ``<unmatched>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

REQUESTS = Counter("recap_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("recap_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
IN_PROGRESS = Gauge("recap_http_requests_in_progress", "HTTP requests being served", ["method"])

# --- jobs and stages (workers; jobs started: the enqueuing API) --------------------------------
JOBS_STARTED = Counter("recap_jobs_started_total", "Render jobs queued", ["priority"])
JOBS_FINISHED = Counter("recap_jobs_finished_total", "Render jobs that ended, by outcome and error code",
                        ["outcome", "code"])
STAGE_DURATION = Histogram("recap_stage_duration_seconds", "Wall time of one stage run", ["stage", "outcome"],
                           buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800))
STAGE_WAIT = Histogram("recap_stage_queue_wait_seconds", "Time a stage message waited in the queue",
                       ["queue", "priority"],
                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600))
STAGES_IN_PROGRESS = Gauge("recap_stage_runs_in_progress", "Stage runs executing in this process", ["stage"])
WORKER_SLOTS = Gauge("recap_worker_slots", "Concurrent stage slots of this worker", ["queue"])
WORKER_SLOTS_BUSY = Gauge("recap_worker_slots_busy", "Slots of this worker running a stage", ["queue"])
STAGE_CPU = Counter("recap_stage_cpu_seconds_total", "CPU time used by stage runs", ["stage"])
STAGE_GPU = Counter("recap_stage_gpu_seconds_total", "GPU time used by stage runs", ["stage"])
STAGE_IO = Counter("recap_stage_io_bytes_total", "Bytes read and written by stage runs", ["stage", "direction"])
RECONCILER_ACTIONS = Counter("recap_reconciler_actions_total", "Reconciler actions", ["action"])
ALIGNMENT_CONFIDENCE = Histogram("recap_alignment_confidence", "Confidence of each aligned beat (0..1)",
                                 buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
WEBHOOK_DELIVERIES = Counter("recap_webhook_deliveries_total", "Outgoing webhook deliveries by outcome",
                             ["outcome"])
BUDGET_ALERTS = Counter("recap_budget_alerts_total", "Tenant budget thresholds crossed", ["level"])

# --- queue (refreshed at scrape time by ``refresh_queue_gauges``) -------------------------------
QUEUE_MESSAGES = Gauge("recap_queue_messages", "Messages in a queue by state (ready, running, deferred)",
                       ["queue", "state"])
QUEUE_OLDEST_READY_AGE = Gauge("recap_queue_oldest_ready_age_seconds",
                               "Age of the oldest message ready to run (0 when none)", ["queue"])

# --- API side ---------------------------------------------------------------------------------
UPLOAD_BYTES = Counter("recap_upload_bytes_total", "Bytes received by uploads")
UPLOADS_COMPLETED = Counter("recap_uploads_completed_total", "Uploads completed", ["outcome"])
DOWNLOAD_BYTES = Counter("recap_download_bytes_total", "Bytes sent by signed downloads")
SUBSCRIPTIONS = Gauge("recap_subscriptions", "Open GraphQL subscriptions in this process")


class PrometheusMiddleware:
    """Pure ASGI middleware (works with streaming responses; websockets pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        method, route = scope["method"], _route_template(scope)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_PROGRESS.labels(method).inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            IN_PROGRESS.labels(method).dec()
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    """The matching route's path template (a method mismatch still names the route: 405s count there)."""
    app = scope.get("app")
    partial = "<unmatched>"
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "<unmatched>"))
        if match is Match.PARTIAL and partial == "<unmatched>":
            partial = str(getattr(route, "path", "<unmatched>"))
    return partial


async def counted_bytes(chunks: AsyncIterator[bytes], counter: Counter,
                        on_done: Callable[[int], Awaitable[None]] | None = None) -> AsyncIterator[bytes]:
    """Pass a body through, counting its bytes as they are sent; ``on_done(total)`` at the end."""
    sent = 0
    try:
        async for chunk in chunks:
            counter.inc(len(chunk))
            sent += len(chunk)
            yield chunk
    finally:
        if on_done is not None:
            with contextlib.suppress(Exception):  # accounting never breaks a download
                await on_done(sent)


async def counted_subscription(events: AsyncIterator[T]) -> AsyncIterator[T]:
    """Pass a subscription's events through; ``recap_subscriptions`` counts it while it is open."""
    SUBSCRIPTIONS.inc()
    try:
        async for event in events:
            yield event
    finally:
        SUBSCRIPTIONS.dec()


async def refresh_queue_gauges(redis: Any, queues: tuple[str, ...] | None = None) -> None:
    """Set the queue gauges from Redis (bounded by a short timeout; stale values stay on failure)."""
    from app.queue import QUEUES, queue_stats

    for name in queues or QUEUES:
        stats = await queue_stats(redis, name)
        for state in ("ready", "running", "deferred"):
            QUEUE_MESSAGES.labels(name, state).set(stats[state])
        QUEUE_OLDEST_READY_AGE.labels(name).set(stats["oldest_ready_age_s"])


async def metrics(request: Request) -> Response:
    redis = getattr(request.app.state, "redis", None)
    if redis is not None:
        with contextlib.suppress(Exception):  # a scrape still answers (with older queue values) when Redis is down
            await asyncio.wait_for(refresh_queue_gauges(redis), 2.0)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
