"""Benchmark: the probe's cost attack (29 aliased ``projects(first:100){nodes{jobs(first:100){nodes{stages
{stage}}}}}``) against a tenant with 100 projects x 100 jobs x 2 stage runs, with the cost limit off and on,
and what it does to another tenant's trivial query (``{ me { tenantId } }``) meanwhile.

Both apps (``create_app``, full middleware) run in this process over httpx's ASGI transport, so the
figures are server work on one event loop, like one uvicorn worker. Side by side in one run:

    .venv/bin/python bench/ratelimit_attack.py          # DATABASE_URL / REDIS_URL: real servers
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 ...

Writes bench/results/ratelimit_attack.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NESTED = "projects(first:100){nodes{jobs(first:100){nodes{stages{stage}}}}}"
ATTACK = "{" + " ".join(f"a{i}: {NESTED}" for i in range(29)) + "}"
TRIVIAL = "{ me { tenantId } }"


async def _database(admin_url: str) -> str:
    import asyncpg

    from app.db import migrate
    from tests.conftest import with_path

    name = f"recap_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(with_path(admin_url, "postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_path(admin_url, name)
    await migrate(url, app_role="recap_app")
    return url


async def _drop(url: str) -> None:
    import asyncpg

    from tests.conftest import with_path

    conn = await asyncpg.connect(with_path(url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def _seed(settings: Any) -> tuple[str, str]:
    """(attacker token, victim token); the attacker's tenant holds 100 x 100 jobs with 2 stage runs each."""
    from app.auth.tokens import issue_access_token
    from app.db import system_tx
    from app.models import Job, JobState, Membership, Project, Role, Stage, StageRun, StageState, Tenant, User

    tokens = []
    async with system_tx():
        for label in ("attacker", "victim"):
            tenant = await Tenant.create(name=label, slug=f"{label}-{uuid.uuid4().hex[:6]}")
            user = await User.create(email=f"{label}{uuid.uuid4().hex[:6]}@example.com", password_hash="x")
            await Membership.create(tenant_id=tenant.id, user_id=user.id, role=Role.OWNER)
            tokens.append(issue_access_token(user.id, tenant.id, Role.OWNER, settings=settings.auth))
            if label == "attacker":
                projects = [Project(id=uuid.uuid4(), tenant_id=tenant.id, name=f"p{i}") for i in range(100)]
                await Project.bulk_create(projects)
                jobs = [Job(id=uuid.uuid4(), tenant_id=tenant.id, project_id=p.id, state=JobState.SUCCEEDED)
                        for p in projects for _ in range(100)]
                await Job.bulk_create(jobs, batch_size=2000)
                runs = [StageRun(tenant_id=tenant.id, job_id=j.id, stage=stage, state=StageState.SUCCEEDED)
                        for j in jobs for stage in (Stage.INGEST, Stage.ANALYSE)]
                await StageRun.bulk_create(runs, batch_size=5000)
    return tokens[0], tokens[1]


async def _post(http: Any, query: str, token: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    return time.perf_counter() - started, response.json()


async def _scenario(app: Any, attacker: str, victim: str) -> dict[str, Any]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as http:
        alone = [(await _post(http, TRIVIAL, victim))[0] for _ in range(20)]
        attack_s, body = await _post(http, ATTACK, attacker)
        code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code", "OK")
        attacks = [asyncio.create_task(_post(http, ATTACK, attacker)) for _ in range(4)]
        await asyncio.sleep(0)
        during = [(await _post(http, TRIVIAL, victim))[0] for _ in range(5)]
        await asyncio.gather(*attacks)
    return {"attack_s": round(attack_s, 4), "attack_answer": code,
            "victim_alone_median_ms": round(statistics.median(alone) * 1000, 2),
            "victim_during_4_attacks_median_ms": round(statistics.median(during) * 1000, 2),
            "victim_during_4_attacks_max_ms": round(max(during) * 1000, 2)}


async def main() -> None:
    from app.config import Settings
    from app.db import close_db, init_db
    from app.main import create_app
    from app.ratelimit.cost import operation_cost
    from app.redis import close_redis

    database = await _database(os.environ["DATABASE_URL"])
    try:
        base = Settings(env="test", database_url=database, redis_url=os.environ["REDIS_URL"])
        await init_db(base)
        attacker, victim = await _seed(base)
        off = base.model_copy(update={"ratelimit": base.ratelimit.model_copy(
            update={"enabled": False, "max_cost": 10**9})})
        results = {"without_cost_limit": await _scenario(create_app(off), attacker, victim),
                   "with_cost_limit": await _scenario(create_app(base), attacker, victim)}
        from graphql import parse

        from app.graphql.schema import schema
        results["attack_cost"] = operation_cost(schema._schema, parse(ATTACK), None, {}, list_size=10)
        results["max_cost"] = base.ratelimit.max_cost
        off_s, on_s = results["without_cost_limit"]["attack_s"], results["with_cost_limit"]["attack_s"]
        results["attack_time_ratio_off_over_on"] = round(off_s / on_s, 1)
        print(json.dumps(results, indent=2))
        out = ROOT / "bench" / "results" / "ratelimit_attack.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        await close_redis()
        await close_db()
    finally:
        await _drop(database)


if __name__ == "__main__":
    asyncio.run(main())
