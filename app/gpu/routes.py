"""The remote GPU worker API (HTTPS only), for hosts that cannot reach Redis or PostgreSQL (Colab).

Every route takes ``Authorization: Bearer gw1...`` (see :mod:`app.gpu.tokens`) and nothing else::

    POST /gpu/v1/claim                          -> 200 {job_id, chunk, model, video, lease_s, input_url,
                                                   segment_url} | 204 (no work)
    GET  /gpu/v1/chunks/{job}/{index}/input     -> the chunk (only to the worker holding its claim)
    PUT  /gpu/v1/chunks/{job}/{index}/segment   (body: the segment MP4, header X-Content-SHA256) -> 204
    POST /gpu/v1/heartbeat {job_id?, index?}    -> 200 {alive, held}  (worker alive; claim extended)
    POST /gpu/v1/report {job_id, index, error}  -> 204 (the claim goes back on the board)

The coordinating upscale stage checks each segment (frame count) before it joins them.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from app.config import Settings, get_settings
from app.errors import AuthError
from app.gpu import board
from app.gpu.heartbeat import record_heartbeat
from app.gpu.tokens import WorkerClaims, verify_worker_token
from app.redis import get_redis
from app.storage.keys import upscale_input_key, upscale_output_key
from app.storage.shared import shared_storage

LEASE_S = 120
MAX_SEGMENT_BYTES = 4 * 1024**3
_JOB = re.compile(r"^[0-9a-f-]{36}$")


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


def _worker(request: Request) -> WorkerClaims:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise AuthError("a GPU worker token is required")
    return verify_worker_token(_settings(request), header[7:].strip())


def _denied(ex: AuthError) -> JSONResponse:
    return JSONResponse({"error": {"code": ex.code, "message": ex.message}}, status_code=401)


def _chunk_ref(request: Request) -> tuple[str, int]:
    job, index = request.path_params["job"], int(request.path_params["index"])
    if not _JOB.fullmatch(job) or not 0 <= index < 100_000:
        raise ValueError("bad chunk reference")
    return job, index


async def claim(request: Request) -> Response:
    try:
        worker = _worker(request)
    except AuthError as ex:
        return _denied(ex)
    redis = get_redis(_settings(request))
    await record_heartbeat(redis, f"remote-{worker.worker_id}")
    work = await board.claim(redis, worker.worker_id, lease_s=LEASE_S)
    if work is None:
        return Response(status_code=204)
    base = f"/gpu/v1/chunks/{work['job_id']}/{work['chunk']['index']}"
    return JSONResponse({**work, "input_url": f"{base}/input", "segment_url": f"{base}/segment"})


async def _held(request: Request) -> tuple[WorkerClaims, str, int] | Response:
    try:
        worker = _worker(request)
        job, index = _chunk_ref(request)
    except AuthError as ex:
        return _denied(ex)
    except ValueError:
        return Response(status_code=404)
    if not await board.holds(get_redis(_settings(request)), worker.worker_id, job, index):
        return JSONResponse({"error": {"code": "CLAIM_LOST", "message": "this worker does not hold the chunk"}},
                            status_code=409)
    return worker, job, index


async def chunk_input(request: Request) -> Response:
    held = await _held(request)
    if isinstance(held, Response):
        return held
    _worker_claims, job, index = held
    storage = shared_storage(_settings(request))
    key = upscale_input_key(UUID(job), f"chunk_{index:04d}.nut")
    if await storage.stat(key) is None:
        return Response(status_code=404)
    return StreamingResponse(storage.open_range(key), media_type="application/octet-stream")


async def chunk_segment(request: Request) -> Response:
    held = await _held(request)
    if isinstance(held, Response):
        return held
    worker, job, index = held
    expected = request.headers.get("x-content-sha256", "").lower()
    digest, size = hashlib.sha256(), 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segment.mp4"
        with path.open("wb") as fh:
            async for block in request.stream():
                size += len(block)
                if size > MAX_SEGMENT_BYTES:
                    return Response(status_code=413)
                digest.update(block)
                fh.write(block)
        if not expected or digest.hexdigest() != expected:
            return JSONResponse({"error": {"code": "CHECKSUM_MISMATCH", "message": "sha256 differs"}},
                                status_code=422)
        storage = shared_storage(_settings(request))
        await storage.put_file(upscale_output_key(UUID(job), f"seg_{index:04d}.mp4"), path)
    await board.complete(get_redis(_settings(request)), worker.worker_id, job, index,
                         {"sha256": expected, "bytes": size})
    return Response(status_code=204)


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def heartbeat(request: Request) -> Response:
    try:
        worker = _worker(request)
    except AuthError as ex:
        return _denied(ex)
    redis = get_redis(_settings(request))
    await record_heartbeat(redis, f"remote-{worker.worker_id}")
    data = await _json(request)
    held = False
    if isinstance(data.get("job_id"), str) and isinstance(data.get("index"), int) and _JOB.fullmatch(data["job_id"]):
        held = await board.extend(redis, worker.worker_id, data["job_id"], data["index"], lease_s=LEASE_S)
    return JSONResponse({"alive": True, "held": held})


async def report(request: Request) -> Response:
    try:
        worker = _worker(request)
    except AuthError as ex:
        return _denied(ex)
    data = await _json(request)
    if isinstance(data.get("job_id"), str) and isinstance(data.get("index"), int) and _JOB.fullmatch(data["job_id"]):
        await board.release(get_redis(_settings(request)), worker.worker_id, data["job_id"], data["index"])
    return Response(status_code=204)


def gpu_routes() -> list[BaseRoute]:
    return [
        Route("/gpu/v1/claim", claim, methods=["POST"]),
        Route("/gpu/v1/chunks/{job}/{index:int}/input", chunk_input, methods=["GET"]),
        Route("/gpu/v1/chunks/{job}/{index:int}/segment", chunk_segment, methods=["PUT"]),
        Route("/gpu/v1/heartbeat", heartbeat, methods=["POST"]),
        Route("/gpu/v1/report", report, methods=["POST"]),
    ]
