"""Benchmark: what the per-request role check costs, side by side in one run.

Three ways to turn a bearer token into a Principal, each called ``--calls`` times in a row:
  token only   decode_access_token (what requests did before: the role came from the JWT)
  cached       decode + access.current_principal with a warm Redis entry (the usual request)
  uncached     decode + current_principal after an invalidation every call (one PostgreSQL read)
against a scratch database (created, migrated, dropped) and the given Redis.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/auth_access.py [--calls 2000]

Writes bench/results/auth_access.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import _drop, _prepare  # noqa: E402


async def _measure(calls: int, db_url: str, token: str) -> dict[str, float]:
    import redis.asyncio as aioredis

    from app.auth import access
    from app.auth.tokens import decode_access_token
    from app.config import Environment, Settings
    from app.db import close_db, init_db

    settings = Settings(env=Environment.TEST, database_url=db_url, redis_url=os.environ["REDIS_URL"])
    await init_db(settings)
    redis = aioredis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        claimed = decode_access_token(token, settings=settings.auth)
        await access.invalidate(redis, claimed.user_id)

        async def token_only() -> None:
            decode_access_token(token, settings=settings.auth)

        async def cached() -> None:
            await access.current_principal(decode_access_token(token, settings=settings.auth), redis)

        async def uncached() -> None:
            await access.invalidate(redis, claimed.user_id)
            await access.current_principal(decode_access_token(token, settings=settings.auth), redis)

        results: dict[str, float] = {}
        for name, step in (("token_only", token_only), ("cached", cached), ("uncached", uncached)):
            await step()  # warm
            start = time.perf_counter()
            for _ in range(calls):
                await step()
            results[name] = (time.perf_counter() - start) / calls * 1e6
        return results
    finally:
        await redis.aclose()
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    db_url, token = await _prepare(server)
    try:
        us = await _measure(args.calls, db_url, token)
    finally:
        await _drop(server, db_url)
    base = us["token_only"]
    print(f"{'path':<12}{'us/call':>10}{'x token only':>14}")
    for name, value in us.items():
        print(f"{name:<12}{value:>10.1f}{value / base:>14.1f}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"calls": args.calls, "us_per_call": us, "run": uuid.uuid4().hex[:8],
                              "ratio_vs_token_only": {k: v / base for k, v in us.items()}}
    (out / "auth_access.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
