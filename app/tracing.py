"""OpenTelemetry tracing, off unless ``RECAP_OBSERVABILITY__OTLP_ENDPOINT`` is set.

One trace runs from the GraphQL request (``TracingMiddleware``) through ``enqueue_stage`` (the
W3C trace context is written into the queue message) to each stage run (the worker starts the
stage span as a child of that context). With tracing off the OpenTelemetry API's no-op tracer
is used, so every call below costs next to nothing.

    init_tracing(settings, service="recap-api")
    carrier = inject_context()            # {"traceparent": "00-..."} into the message
    with stage_span(carrier, "align"): ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject

from app.config import Settings

TRACER_NAME = "recap"


def init_tracing(settings: Settings, *, service: str, exporter: Any = None) -> bool:
    """Install a tracer provider exporting over OTLP/HTTP (or to ``exporter``); False when off."""
    endpoint = settings.observability.otlp_endpoint
    if exporter is None and not endpoint:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    from app.observability import release

    if exporter is not None:
        processor: Any = SimpleSpanProcessor(exporter)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # the global provider is set once per process: add to it
        current.add_span_processor(processor)
        return True
    resource = Resource.create({"service.name": service, "service.version": release(settings),
                                "deployment.environment": settings.env.value})
    provider = TracerProvider(resource=resource,
                              sampler=ParentBased(TraceIdRatioBased(settings.observability.trace_sample_ratio)))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return True


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def inject_context() -> dict[str, str]:
    """The current trace context as W3C headers (empty when no span is recording)."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextlib.contextmanager
def stage_span(carrier: dict[str, str] | None, stage: str, **attributes: str) -> Iterator[trace.Span]:
    """A consumer span for one stage run, child of the context that enqueued it."""
    token = otel_context.attach(extract(carrier or {}))
    try:
        with tracer().start_as_current_span(f"stage {stage}", kind=trace.SpanKind.CONSUMER,
                                            attributes={"recap.stage": stage, **attributes}) as span:
            yield span
    finally:
        otel_context.detach(token)


class TracingMiddleware:
    """Pure ASGI: a server span per HTTP request (continuing an incoming ``traceparent``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in ("/metrics", "/healthz", "/readyz"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        token = otel_context.attach(extract(headers))
        try:
            with tracer().start_as_current_span(f"{scope['method']} {scope['path']}", kind=trace.SpanKind.SERVER,
                                                attributes={"http.request.method": scope["method"],
                                                            "url.path": scope["path"]}):
                await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


__all__ = ["TracingMiddleware", "current_trace_id", "init_tracing", "inject_context", "stage_span", "tracer"]
