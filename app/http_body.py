"""Reading a request body with a byte limit, before any of it is trusted or parsed; decoding JSON text.

    body = await read_limited(request, 16 * 1024)     # BodyTooLargeError past the limit
    data = decode_json_text(body)                     # BadTextError: not UTF-8, not JSON, lone surrogates
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request


class BadTextError(ValueError):
    """A body that cannot be decoded into storable text: ``code`` INVALID_ENCODING or INVALID_JSON."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_storable(value: Any) -> None:
    """Refuse lone UTF-16 surrogates (``"\\ud800"`` JSON escapes) anywhere in decoded JSON: no column stores
    them, and password hashing cannot encode them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadTextError("INVALID_ENCODING", "the body holds a lone UTF-16 surrogate") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def decode_json_text(data: str | bytes) -> Any:
    """Strict UTF-8 JSON whose every string is storable; BadTextError otherwise."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise BadTextError("INVALID_ENCODING", "the body is not valid UTF-8") from None
    try:
        value = json.loads(text)
    except ValueError:
        raise BadTextError("INVALID_JSON", "the body is not valid JSON") from None
    check_storable(value)
    return value


class BodyTooLargeError(Exception):
    """The body (declared or received) is over the limit; answer 413."""

    code = "BODY_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is limited to {limit} bytes")
        self.limit = limit


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, read as it arrives and refused as soon as it passes ``limit`` bytes (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not (declared.isascii() and declared.isdigit()) or int(declared) > limit):
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
