"""Reading a request body with a byte limit, before any of it is trusted or parsed.

    body = await read_limited(request, 16 * 1024)     # BodyTooLargeError past the limit
"""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLargeError(Exception):
    """The body (declared or received) is over the limit; answer 413."""

    code = "BODY_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is limited to {limit} bytes")
        self.limit = limit


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, read as it arrives and refused as soon as it passes ``limit`` bytes (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
