"""/metrics carries the job, stage and queue series; a worker serves its own; logs are JSON with ids."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import urllib.request
from typing import Any

from app.config import Settings
from app.logs import JsonFormatter, log_context
from tests.ops.conftest import clear_queues


async def test_api_metrics_show_queue_depth_and_jobs(client: Any, render_job: Any, redis_client: Any) -> None:
    await clear_queues(redis_client)
    await render_job()
    await render_job(plan="studio")
    text = (await client.get("/metrics")).text
    assert 'recap_queue_messages{queue="recap:queue:cpu",state="ready"} 2.0' in text
    assert 'recap_queue_messages{queue="recap:queue:gpu",state="ready"} 0.0' in text
    assert 'recap_queue_oldest_ready_age_seconds{queue="recap:queue:cpu"}' in text
    assert 'recap_jobs_started_total{priority="2"}' in text
    for name in ("recap_stage_duration_seconds", "recap_reconciler_actions_total", "recap_upload_bytes_total",
                 "recap_download_bytes_total", "recap_subscriptions", "recap_alignment_confidence",
                 "recap_webhook_deliveries_total", "recap_worker_slots_busy", "recap_stage_runs_in_progress"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


async def test_a_worker_serves_its_own_metrics(settings: Settings) -> None:
    from runners.metrics_server import start_metrics_server

    assert start_metrics_server(settings) is None  # port 0 (the default): off
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_metrics_server(settings, port=port)
    try:
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode())
        assert "# TYPE recap_worker_slots gauge" in body and "recap_stage_duration_seconds" in body
    finally:
        server.shutdown()
        server.server_close()


def test_json_logs_carry_the_ids_in_scope() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("recap.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with log_context(request_id="req-12345678", tenant_id="t-1"), log_context(job_id="j-1", stage="align"):
            logger.warning("aligned %d beats", 3)
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "aligned 3 beats" and first["level"] == "warning"
    assert (first["request_id"], first["tenant_id"], first["job_id"], first["stage"]) == \
        ("req-12345678", "t-1", "j-1", "align")
    assert "job_id" not in second and first["ts"].endswith("Z")


async def test_request_id_is_echoed_or_made(client: Any) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "abcdef123456"})
    assert given.headers["x-request-id"] == "abcdef123456"
    made = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32
