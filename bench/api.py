"""Benchmark: GraphQL ``projects(first: 20)`` vs a bare Starlette JSON endpoint doing the same read.

Both endpoints live in ONE uvicorn process (1 worker, subprocess) built by ``create_app`` (same middleware),
against a real PostgreSQL holding a tenant with 1,000 projects. Both decode the bearer token, open a
``tenant_tx`` and run the same ORM keyset query (LIMIT 21). A separate load process drives 50 concurrent
asyncio httpx clients for ``--duration`` seconds per endpoint, one endpoint after the other.

    .venv/bin/python bench/api.py                 # 20 s per endpoint, 50 clients
    .venv/bin/python bench/api.py --quick         # 5 s per endpoint
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 ...

Writes bench/results/api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERY = "query($first: Int!) { projects(first: $first) { edges { cursor node { id name description createdAt } } " \
        "pageInfo { hasNextPage endCursor } } }"
PROJECTS = 1000


# --- the server side (imported by uvicorn in the subprocess) ----------------------------------------------

def bench_app() -> Any:
    """create_app(settings) plus GET /bare: the same tenant-scoped read without GraphQL."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from app.auth.http import principal_from_request
    from app.config import get_settings
    from app.errors import AuthError
    from app.graphql.pagination import encode_cursor
    from app.main import create_app
    from app.services import projects

    async def bare(request: Request) -> Response:
        try:
            principal = await principal_from_request(request)
        except AuthError as ex:
            return JSONResponse({"error": ex.code}, status_code=401)
        page = await projects.list_projects(principal, first=int(request.query_params.get("first", 20)), after=None)
        edges = [{"cursor": encode_cursor(p.created_at, p.id),
                  "node": {"id": str(p.id), "name": p.name, "description": p.description,
                           "createdAt": p.created_at.isoformat()}} for p in page.items]
        return JSONResponse({"data": {"projects": {"edges": edges, "pageInfo": {
            "hasNextPage": page.has_next, "endCursor": edges[-1]["cursor"] if edges else None}}}})

    app = create_app(get_settings())
    app.router.routes.append(Route("/bare", bare, methods=["GET"]))
    return app


# --- set-up: database, seed, token ------------------------------------------------------------------------

async def _prepare(server_url: str) -> tuple[str, str]:
    """Create and migrate ``recap_bench_<hex>``; seed one tenant, one viewer, 1,000 projects. -> (db url, token)."""
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    from app.auth.tokens import issue_access_token
    from app.config import Environment, Settings
    from app.db import migrate
    from app.models import Role

    name = f"recap_bench_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(server_url)
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlunsplit(parts._replace(path=f"/{name}"))
    await migrate(url, app_role=Settings(env=Environment.TEST).db_app_role)
    conn = await asyncpg.connect(url)
    tenant, user = uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO tenants (id, name, slug) VALUES ($1, 'Bench', $2)", tenant, f"bench-{name}")
    await conn.execute("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')", user, f"{name}@b.example")
    await conn.execute("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')", tenant, user)
    await conn.executemany(
        "INSERT INTO projects (tenant_id, name, description, created_at) VALUES ($1, $2, $3, now() - $4::interval)",
        [(tenant, f"Project {i:04d}", "A recap of season one.", timedelta(seconds=i)) for i in range(PROJECTS)])
    await conn.execute("ANALYZE")
    await conn.close()
    auth = Settings(env=Environment.TEST).auth
    token = issue_access_token(user, tenant, Role.VIEWER, settings=auth, ttl_seconds=3600)
    return url, token


async def _drop(server_url: str, db_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    admin = await asyncpg.connect(urlunsplit(urlsplit(server_url)._replace(path="/postgres")))
    await admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(db_url).path[1:]}" WITH (FORCE)')
    await admin.close()


# --- the load side (its own process) ----------------------------------------------------------------------

async def _load(base: str, endpoint: str, token: str, clients: int, duration: float) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors = 0
    samples: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:
        async def once() -> bool:
            try:
                return await request()
            except httpx.HTTPError as ex:
                samples.append(repr(ex)[:200])
                return False

        async def request() -> bool:
            if endpoint == "graphql":
                response = await http.post("/graphql", json={"query": QUERY, "variables": {"first": 20}})
                ok = response.status_code == 200 and "errors" not in response.json()
            else:
                response = await http.get("/bare", params={"first": 20})
                ok = response.status_code == 200
            if not ok:
                samples.append(f"{response.status_code} {response.text[:200]}")
            return ok

        for _ in range(3):  # warm-up: connections, caches
            await asyncio.gather(*(once() for _ in range(clients)))
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                ok = await once()
                latencies.append(time.perf_counter() - start)
                errors += 0 if ok else 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {"endpoint": endpoint, "latencies": latencies, "errors": errors, "seconds": elapsed,
            "error_samples": samples[:3]}


def _summary(endpoint: str, phases: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """Merge the phases of one endpoint: throughput, latency percentiles, server CPU per request."""
    ordered = sorted(x for phase in phases for x in phase["latencies"])
    seconds = sum(phase["seconds"] for phase in phases)

    def pct(q: float) -> float:
        return round(float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) * 1000, 2)

    cpu_ms = sum(p["server_cpu_s"] for p in phases) * 1000 / sum(p["served"] for p in phases)
    return {"endpoint": endpoint, "requests": len(ordered), "errors": sum(p["errors"] for p in phases),
            "seconds": round(seconds, 2), "rps": round(len(ordered) / seconds, 1), "p50_ms": pct(0.50),
            "p95_ms": pct(0.95), "p99_ms": pct(0.99), "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
            "server_cpu_ms_per_request": round(cpu_ms, 3),
            # Little's law with closed-loop clients: even on a whole idle core each request waits for the others.
            "one_idle_core_p50_floor_ms": round(clients * cpu_ms, 1),
            "error_samples": [s for p in phases for s in p["error_samples"]][:3]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("uvicorn did not become ready")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc), to report server CPU per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_load(base: str, endpoint: str, token: str, clients: int, duration: float, pid: int) -> dict[str, Any]:
    before = _cpu_seconds(pid)
    out = subprocess.run([sys.executable, __file__, "--load", base, "--endpoint", endpoint, "--token", token,
                          "--clients", str(clients), "--duration", str(duration)],
                         check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"load process failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    # Contention-independent: server CPU per request (the warm-up's 3 x clients requests included).
    result["served"] = len(result["latencies"]) + 3 * clients
    result["server_cpu_s"] = _cpu_seconds(pid) - before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="5 s per endpoint")
    parser.add_argument("--load")
    parser.add_argument("--endpoint")
    parser.add_argument("--token")
    args = parser.parse_args()
    if args.load:  # the load-generator process
        print(json.dumps(asyncio.run(_load(args.load, args.endpoint, args.token, args.clients, args.duration))))
        return
    duration = 5.0 if args.quick else args.duration
    from contextlib import ExitStack

    with ExitStack() as stack:
        server_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
        if not (server_url and redis_url):
            import tempfile

            from app.config import Environment, Settings
            from app.embedded import embedded_stack

            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recap-bench-")))
            server_url, redis_url = stack.enter_context(embedded_stack(Settings(env=Environment.TEST, data_dir=data)))
        db_url, token = asyncio.run(_prepare(server_url))
        try:
            result = _serve_and_measure(db_url, redis_url, token, args.clients, duration)
        finally:
            asyncio.run(_drop(server_url, db_url))
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "api.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


def _serve_and_measure(db_url: str, redis_url: str, token: str, clients: int, duration: float) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "RECAP_ENV": "test",
           "RECAP_DB_POOL_MAX": "20", "RECAP_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api:bench_app", "--app-dir",
                             str(ROOT / "bench"), "--port", str(port), "--workers", "1", "--log-level", "warning",
                             "--no-access-log", "--timeout-keep-alive", "120"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
        # Alternate the endpoints in two halves each, so drifting machine load hits both alike.
        phases: dict[str, list[dict[str, Any]]] = {"graphql": [], "bare": []}
        for endpoint in ("graphql", "bare", "bare", "graphql"):
            phases[endpoint].append(_run_load(base, endpoint, token, clients, duration / 2, proc.pid))
        graphql, bare = _summary("graphql", phases["graphql"], clients), _summary("bare", phases["bare"], clients)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"benchmark": "api", "projects": PROJECTS, "clients": clients, "duration_s": duration,
            "load_average_1min": round(os.getloadavg()[0], 2), "cpu_count": os.cpu_count(),
            "graphql": graphql, "bare": bare, "ratio_rps": round(graphql["rps"] / bare["rps"], 3),
            "ratio_server_cpu": round(bare["server_cpu_ms_per_request"] / graphql["server_cpu_ms_per_request"], 3),
            "aims": {"ratio_rps": ">= 0.5", "graphql_p99_ms": "< 100"}}


if __name__ == "__main__":
    main()
