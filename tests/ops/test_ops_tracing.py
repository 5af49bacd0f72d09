"""One trace from the GraphQL request through enqueue (the context travels in the message) to the stage."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.config import Settings
from app.tracing import init_tracing
from runners.worker import stage_message
from tests.ops.conftest import SCRIPT_TEXT, message_of

START = """mutation($p: ID!, $o: RenderOptionsInput) { startRender(projectId: $p, options: $o) {
  __typename ... on JobPayload { job { id } } } }"""


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    init_tracing(Settings(env="test"), service="recap-test", exporter=exporter)
    return exporter


async def test_graphql_request_enqueue_and_stage_share_one_trace(
        spans: InMemorySpanExporter, gql: Any, project_with_clip: Any, worker_ctx: dict[str, Any],
        redis_client: Any) -> None:
    _, token, project = await project_with_clip()
    spans.clear()
    body = await gql(START, {"p": str(project.id), "o": {"scriptText": SCRIPT_TEXT, "narration": "none"}}, token=token)
    job_id = body["data"]["startRender"]["job"]["id"]
    meta = (await message_of(redis_client, job_id, "ingest"))["k"]["meta"]
    assert meta["trace"]["traceparent"].startswith("00-")
    assert await stage_message(worker_ctx, job_id, "ingest", meta) == "done"

    finished = {s.name: s for s in spans.get_finished_spans()}
    request, enqueue, stage = finished["POST /graphql"], finished["enqueue ingest"], finished["stage ingest"]
    trace_id = request.context.trace_id
    assert enqueue.context.trace_id == trace_id and stage.context.trace_id == trace_id
    assert enqueue.parent is not None and enqueue.parent.span_id == request.context.span_id
    assert stage.parent is not None and stage.parent.span_id == enqueue.context.span_id
    assert stage.attributes["recap.job_id"] == job_id and stage.attributes["recap.stage"] == "ingest"
