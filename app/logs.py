"""Structured logs: one JSON object a line, with the request, job, stage and tenant ids in scope.

The ids live in context variables, so every record logged inside a request or a stage run
carries them without passing them around (asyncio tasks copy the context they start in).
Tenant *ids* only: never names, emails or tokens.

    with log_context(job_id=str(job.id), stage="align", tenant_id=str(job.tenant_id)):
        log.info("aligned")   # {"level": "info", "msg": "aligned", "job_id": "...", "stage": "align", ...}
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import Any

FIELDS = ("request_id", "job_id", "stage", "tenant_id", "trace_id")
_context: ContextVar[dict[str, str]] = ContextVar("recap_log_context", default={})  # noqa: B039 - never mutated


def current_context() -> dict[str, str]:
    return dict(_context.get())


def bind(**values: str | None) -> Token[dict[str, str]]:
    """Add ids to the current context (None values are dropped); ``unbind(token)`` restores it."""
    merged = {**_context.get(), **{k: v for k, v in values.items() if v is not None}}
    return _context.set(merged)


def unbind(token: Token[dict[str, str]]) -> None:
    _context.reset(token)


@contextlib.contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    token = bind(**values)
    try:
        yield
    finally:
        unbind(token)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", <context ids>, "exc"}``, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        entry.update(_context.get())
        for name in FIELDS:  # ids passed as ``extra=`` win over the context
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdMiddleware:
    """Pure ASGI: take ``X-Request-Id`` (when sane) or make one; bind it for logs; echo it back."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or _new_id()

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)


def _incoming_id(scope: Any) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            text: str = value.decode("latin-1")
            if 8 <= len(text) <= 64 and all(c.isalnum() or c in "-_" for c in text):
                return text
    return None


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


__all__ = ["JsonFormatter", "RequestIdMiddleware", "bind", "current_context", "log_context", "unbind"]
