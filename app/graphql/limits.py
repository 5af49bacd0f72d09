"""Abuse limits: query depth, aliases and tokens (validation rules built once), parser/validation caches,
introspection off in production, the request size limit: HTTP bodies (413) and websocket messages
(close 1009, before the message is parsed), and JSON bodies that are not a UTF-8 JSON object (400).

    rules = limit_rules(settings.graphql)           # depth + aliases, applied per operation by RecapOperation
    extensions = cache_extensions(production=settings.is_production)
    app = BodySizeLimit(graphql_asgi_app, settings.graphql.max_query_bytes)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from graphql import ASTValidationRule, GraphQLError, GraphQLSyntaxError
from graphql import ExecutionResult as GraphQLExecutionResult
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.types import ExecutionResult as StrawberryExecutionResult

from app.config import GraphQLSettings
from app.http_body import BadTextError, decode_json_text
from app.unavailable import is_unavailable

REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
#: A JSON POST body that is not an object (HTTP 400; bad text is INVALID_ENCODING / INVALID_JSON).
BAD_REQUEST = "BAD_REQUEST"
#: Codes given to errors that graphql-core leaves without one, so every error a client sees has a code.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_ERROR = "INTERNAL_ERROR"
#: RFC 6455 close code "message too big".
WS_MESSAGE_TOO_BIG = 1009


def limit_rules(gql: GraphQLSettings) -> tuple[type[ASTValidationRule], ...]:
    """Depth and alias validation rules; built once, so the validation cache sees the same rules every time."""
    depth: Any = query_depth_limiter.create_validator(gql.max_depth, None, None)
    aliases: Any = max_aliases.create_validator(gql.max_aliases)
    return depth, aliases


def cache_extensions(*, production: bool) -> list[Callable[[], SchemaExtension]]:
    """Parser and validation caches (one instance per operation, as strawberry requires); no introspection in
    production. The token limit and the depth/alias rules are applied by ``RecapOperation``."""
    factories: list[Callable[[], SchemaExtension]] = [ErrorCodes, lambda: ParserCache(maxsize=512),
                                                      lambda: ValidationCache(maxsize=512)]
    if production:
        factories.append(DisableIntrospection)
    return factories


def error_code(error: GraphQLError) -> str:
    """The stable code of ``error``: its own, else by kind (syntax / request validation / masked)."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code:
        return code
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    if is_unavailable(error.original_error):  # e.g. a limit that reads the tenant's plan while PostgreSQL is down
        return "UNAVAILABLE"
    return VALIDATION_FAILED if error.path is None else INTERNAL_ERROR


class ErrorCodes(SchemaExtension):
    """Outermost: after masking, every error without ``extensions.code`` gets one (``error_code``)."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = list(context.pre_execution_errors or ())  # parse errors never reach ``result``
        if isinstance(context.result, GraphQLExecutionResult | StrawberryExecutionResult):
            errors += context.result.errors or ()
        label_errors(errors)


def label_errors(errors: Iterable[GraphQLError]) -> None:
    """Give each error without ``extensions.code`` its ``error_code``."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": error_code(error)}


def _json_problem(scope: Scope, body: bytes) -> tuple[str, str] | None:
    """(code, message) when a JSON POST body cannot be a GraphQL request, else None: the one strict decoder
    (``decode_json_text``: INVALID_ENCODING, INVALID_JSON), nesting past the parser's recursion
    (INVALID_JSON) and anything but an object (BAD_REQUEST). Found here, once, rather than as a 500 deeper."""
    if scope.get("method") != "POST":
        return None
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"application/json":
        return None
    try:
        parsed = decode_json_text(body)
    except BadTextError as ex:
        return ex.code, str(ex)
    except RecursionError:
        return "INVALID_JSON", "the body nests too deeply"
    if not isinstance(parsed, dict):
        return BAD_REQUEST, "the request body must be a JSON object (batching is off)"
    return None


def _error_body(code: str, message: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    return body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body, headers = _error_body(code, message)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """ASGI wrapper answering 413 to HTTP requests whose body exceeds ``max_bytes`` (header or actual bytes),
    and closing a websocket (1009 "message too big") whose client sends a larger message."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, _bounded_messages(receive, send, self.max_bytes), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not (declared.isascii() and declared.isdigit()) or int(declared) > self.max_bytes):
            await self._reject(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _json_problem(scope, body)
        if problem is not None:
            await _answer(send, 400, *problem)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _reject(self, send: Send) -> None:
        await _answer(send, 413, REQUEST_TOO_LARGE, f"request body larger than {self.max_bytes} bytes")


def _bounded_messages(receive: Receive, send: Send, max_bytes: int) -> Receive:
    """``receive`` that turns a too large websocket message into a close (1009) the app sees as a disconnect."""
    closed = False

    async def bounded() -> Message:
        nonlocal closed
        if closed:
            return {"type": "websocket.disconnect", "code": WS_MESSAGE_TOO_BIG}
        message = await receive()
        if message["type"] == "websocket.receive":
            size = len(message.get("text") or "") + len(message.get("bytes") or b"")
            if size > max_bytes:
                closed = True
                await send({"type": "websocket.close", "code": WS_MESSAGE_TOO_BIG,
                            "reason": f"message larger than {max_bytes} bytes"})
                return {"type": "websocket.disconnect", "code": WS_MESSAGE_TOO_BIG}
        return message

    return bounded


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


__all__: list[Any] = [
    "INTERNAL_ERROR",
    "PARSE_FAILED",
    "REQUEST_TOO_LARGE",
    "VALIDATION_FAILED",
    "WS_MESSAGE_TOO_BIG",
    "BodySizeLimit",
    "ErrorCodes",
    "cache_extensions",
    "error_code",
    "limit_rules",
]
