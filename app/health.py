"""Liveness and readiness endpoints.

``/healthz``: the process answers (no dependencies checked). ``/readyz``: PostgreSQL and Redis
answer within a short timeout; 503 with per-check details otherwise, so a load balancer stops
sending traffic to a pod that cannot serve it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.connection import get_connections

CHECK_TIMEOUT_S = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    checks = {
        "database": await _check(get_connections().get("system").execute_query("SELECT 1")),
        "redis": await _check(request.app.state.redis.ping()),
    }
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503)


async def _check(probe: Awaitable[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
    except Exception as ex:  # any failure means "not ready"; the reason goes in the body
        return {"ok": False, "error": f"{type(ex).__name__}: {ex}"[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
