"""Restart PostgreSQL while a job runs, on a throw-away cluster of its own (pgserver's binaries).

While the database is down the API must say so honestly: ``/readyz`` answers 503 and GraphQL answers
a typed ``UNAVAILABLE`` error (not "Unexpected error."). After the restart the API and the worker
recover by themselves (no restart of theirs), and the job completes with every invariant of
:func:`check_render`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from common import ROOT, check_render, job_state, new_job, running_stage, sample_film, stack, usage, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A pgserver cluster in ``pgdata`` that can be stopped hard and started again on the same socket."""

    def __init__(self, pgdata: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver._commands import pg_ctl
            from pgserver.postgres_server import get_server
        self._pg_ctl = pg_ctl
        self.pgdata = pgdata
        self.server = get_server(pgdata, cleanup_mode="stop")
        self.url: str = self.server.get_uri("postgres")
        self.socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]

    def stop_hard(self) -> None:
        self._pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "restart.log"),
                      "start"], pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def cleanup(self) -> None:
        """Stop the cluster for sure: pgserver only stops a server it started itself, not our restart."""
        self.server.cleanup()
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._pg_ctl(["-m", "fast", "-w", "stop"], pgdata=self.pgdata, user=self.server.system_user)


async def graphql_code(api: str, token: str, job_id: Any) -> str:
    """The error code of a job query ('' when it answered)."""
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{api}/graphql", json={"query": "query($id: ID!){ job(id: $id) { __typename } }",
                                                     "variables": {"id": str(job_id)}},
                              headers={"Authorization": f"Bearer {token}"})
    body = r.json()
    if body.get("errors"):
        return str(body["errors"][0].get("extensions", {}).get("code") or body["errors"][0]["message"])
    return ""


async def readyz(api: str) -> int:
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            return (await client.get(f"{api}/readyz")).status_code
    except httpx.HTTPError:
        return 0


async def scenario(work: Path, film: Any, down_s: float, limit_s: float) -> list[str]:
    from app.auth.tokens import issue_access_token

    work.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(work / "pg")
    problems: list[str] = []
    try:
        async with stack(work, database_url=cluster.url) as st:
            principal, job = await new_job(st, film)
            before = await usage(principal.tenant_id)
            token = issue_access_token(principal.user_id, principal.tenant_id, principal.role,
                                       settings=st.settings.auth)
            port = free_port()
            api = f"http://127.0.0.1:{port}"
            env = st.worker_env()
            with open(work / "api.log", "ab") as log:
                command = [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port)]
                server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: ASYNC220
                                          cwd=ROOT)
            st.procs.append(server)

            async def api_up() -> bool:
                return await readyz(api) == 200
            await wait_until(api_up, limit_s, "the API to be ready")
            st.spawn_worker("worker", RECAP_WORKER__LEASE_SECONDS="10", RECAP_WORKER__RETRY_BASE_SECONDS="1")

            async def working() -> bool:
                return await running_stage(job.id) in ("analyse", "transcribe", "script", "align")
            await wait_until(working, limit_s, "a stage to run")
            cluster.stop_hard()
            down_until = time.monotonic() + down_s
            codes: set[str] = set()
            statuses: set[int] = set()
            while time.monotonic() < down_until:
                statuses.add(await readyz(api))
                codes.add(await graphql_code(api, token, job.id))
                await asyncio.sleep(0.5)
            if statuses != {503}:
                problems.append(f"/readyz answered {sorted(statuses)} while PostgreSQL was down (want only 503)")
            if codes != {"UNAVAILABLE"}:
                problems.append(f"GraphQL answered {sorted(codes)} while PostgreSQL was down (want UNAVAILABLE)")
            cluster.start()
            await wait_until(api_up, limit_s, "the API to recover by itself")
            if code := await graphql_code(api, token, job.id):
                problems.append(f"GraphQL still answers {code} after the restart")
            if server.poll() is not None or any(p.poll() is not None for p in st.procs):
                problems.append("a server or worker process died")

            async def ended() -> bool:
                try:
                    return await job_state(job.id) in ("succeeded", "failed", "cancelled")
                except Exception:  # our own pool reconnects too
                    return False
            await wait_until(ended, limit_s, "the job to end after the restart")
            problems += await check_render(st, principal, job.id, charged_before=before)
    finally:
        cluster.cleanup()
    return problems


def run(work: Path, down_s: float, limit_s: float) -> tuple[int, list[str], dict[str, Any]]:
    film = sample_film(work / "film")
    os.environ.setdefault("RECAP_ENV", "test")
    problems = asyncio.run(scenario(work / "run", film, down_s, limit_s))
    print("pg-restart:", problems if problems else "ok")
    return 1, problems, {"down_seconds": down_s}
