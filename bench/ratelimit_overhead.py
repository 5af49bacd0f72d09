"""Benchmark: what the rate limits cost a request. ``{ me { tenantId } }`` through ``create_app`` (full
middleware, in-process ASGI, one event loop) with the limits on (IP + tenant moving windows + the cost
budget: three Redis calls) and off, interleaved in rounds so both see the same machine load.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/ratelimit_overhead.py [--requests 300] [--rounds 5]

Writes bench/results/ratelimit_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ratelimit_attack import _database, _drop  # noqa: E402

QUERY = {"query": "{ me { tenantId } }"}


async def _round(app: Any, token: str, requests: int) -> float:
    import httpx

    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        started = time.perf_counter()
        for _ in range(requests):
            response = await http.post("/graphql", json=QUERY, headers=headers)
            assert response.status_code == 200, response.text
        return (time.perf_counter() - started) / requests


async def main(requests: int, rounds: int) -> None:
    from app.config import RateTier, Settings
    from app.db import close_db, init_db
    from app.main import create_app
    from app.redis import close_redis

    database = await _database(os.environ["DATABASE_URL"])
    try:
        base = Settings(env="test", database_url=database, redis_url=os.environ["REDIS_URL"])
        await init_db(base)
        _, token = await _seed_victim(base)
        big = RateTier(api_per_minute=10**7, uploads_per_minute=10**7, cost_per_minute=10**9)
        on = base.model_copy(update={"ratelimit": base.ratelimit.model_copy(
            update={"plans": {"free": big}, "ip_api_per_minute": 10**7})})
        off = base.model_copy(update={"ratelimit": base.ratelimit.model_copy(update={"enabled": False})})
        apps = {"on": create_app(on), "off": create_app(off)}
        per: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(rounds):
            for name, app in apps.items():
                per[name].append(await _round(app, token, requests))
        on_ms, off_ms = (statistics.median(per[n]) * 1000 for n in ("on", "off"))
        results = {"requests_per_round": requests, "rounds": rounds, "limits_on_ms": round(on_ms, 3),
                   "limits_off_ms": round(off_ms, 3), "overhead_ms": round(on_ms - off_ms, 3),
                   "ratio_on_over_off": round(on_ms / off_ms, 3)}
        print(json.dumps(results, indent=2))
        (ROOT / "bench" / "results").mkdir(exist_ok=True)
        (ROOT / "bench" / "results" / "ratelimit_overhead.json").write_text(json.dumps(results, indent=2) + "\n")
        await close_redis()
        await close_db()
    finally:
        await _drop(database)


async def _seed_victim(settings: Any) -> tuple[str, str]:
    """One tenant with one owner; the token."""
    from app.auth.tokens import issue_access_token
    from app.db import system_tx
    from app.models import Membership, Role, Tenant, User

    async with system_tx():
        tenant = await Tenant.create(name="bench", slug=f"bench-{os.getpid()}")
        user = await User.create(email=f"bench{os.getpid()}@example.com", password_hash="x")
        await Membership.create(tenant_id=tenant.id, user_id=user.id, role=Role.OWNER)
    return "", issue_access_token(user.id, tenant.id, Role.OWNER, settings=settings.auth)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
