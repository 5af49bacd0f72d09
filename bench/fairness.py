"""Benchmark: per-tenant fair share of the stage queue against plain FIFO, in the same run.

10 tenants; tenant 0 queues a backlog of 100 stages at once, then each of the 9 others queues
its first stage (one every 10 ms). Real ARQ workers on real Redis (2 workers x 2 slots) run a
stage function that holds its slot for ``--stage-ms``. Reported: the 9 tenants' first-stage
waits (enqueue -> start) p50/p99 and the backlog tenant's makespan, for

- ``fifo``: ARQ's own score (enqueue time), i.e. what one plain queue does;
- ``fair``: ``app.queue.fair_score`` (the production scheme: start-time fair queuing per tenant).

    .venv/bin/python bench/fairness.py [--trials 10] [--backlog 100] [--stage-ms 20]

Uses REDIS_URL (default redis://127.0.0.1:6379/0) with its own keys (``recap:bench:*``), else an
embedded Valkey. Writes bench/results/fairness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
TENANTS = 10
WORKERS, SLOTS = 2, 2


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _trial(url: str, mode: str, backlog: int, stage_s: float, quantum_ms: int) -> dict[str, Any]:
    from arq import create_pool
    from arq.worker import Worker, func

    from app.queue import deserialize, fair_score, redis_settings, serialize

    queue = f"recap:bench:{mode}:{uuid.uuid4().hex[:8]}"
    started: dict[str, float] = {}

    async def bench_stage(ctx: dict[str, Any], tenant: str, index: int) -> None:
        started[f"{tenant}:{index}"] = time.time()
        await asyncio.sleep(stage_s)

    pool = await create_pool(redis_settings(url), job_serializer=serialize, job_deserializer=deserialize)
    enqueued: dict[str, float] = {}

    async def put(tenant: str, index: int) -> None:
        options: dict[str, Any] = {}
        if mode == "fair":
            score = await fair_score(pool, queue, tenant, 1, quantum_ms=quantum_ms)
            options = {"_defer_until": datetime.fromtimestamp(score / 1000, UTC), "_expires": 3600}
        enqueued[f"{tenant}:{index}"] = time.time()
        await pool.enqueue_job("bench_stage", tenant, index, _queue_name=queue, **options)

    for i in range(backlog):
        await put("t0", i)
    workers = [Worker(functions=[func(bench_stage, name="bench_stage")], queue_name=queue,  # type: ignore[list-item]
                      redis_settings=redis_settings(url), max_jobs=SLOTS, poll_delay=0.005, burst=True,
                      handle_signals=False, job_serializer=serialize, job_deserializer=deserialize,
                      keep_result=0) for _ in range(WORKERS)]
    runs = [asyncio.create_task(w.async_run()) for w in workers]
    await asyncio.sleep(0.05)
    for t in range(1, TENANTS):
        await put(f"t{t}", 0)
        await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.gather(*runs), 300)
    for w in workers:
        await w.close()
    with contextlib.suppress(Exception):
        await pool.delete(queue, *[k async for k in pool.scan_iter(f"recap:fair:{queue}:*")])
    await pool.aclose()
    waits = [started[f"t{t}:0"] - enqueued[f"t{t}:0"] for t in range(1, TENANTS)]
    makespan = max(started[f"t0:{i}"] for i in range(backlog)) + stage_s - enqueued["t0:0"]
    return {"waits": waits, "backlog_makespan_s": makespan}


@contextlib.contextmanager
def _redis_url() -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    import tempfile

    from app.config import Settings
    from app.embedded import embedded_stack

    with tempfile.TemporaryDirectory() as tmp, \
            embedded_stack(Settings(env="test", data_dir=Path(tmp), database_url="postgresql://unused")) as urls:
        yield urls[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--backlog", type=int, default=100)
    parser.add_argument("--stage-ms", type=float, default=20.0)
    parser.add_argument("--quantum-ms", type=int, default=1000)
    args = parser.parse_args()
    out: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(), "tenants": TENANTS,
                           "backlog": args.backlog, "stage_ms": args.stage_ms, "slots": WORKERS * SLOTS,
                           "trials": args.trials, "quantum_ms": args.quantum_ms}
    with _redis_url() as url:
        results: dict[str, dict[str, list[float]]] = {m: {"waits": [], "makespan": []} for m in ("fifo", "fair")}
        for _ in range(args.trials):
            for mode in ("fifo", "fair"):  # interleaved: both see the same machine load
                r = asyncio.run(_trial(url, mode, args.backlog, args.stage_ms / 1000, args.quantum_ms))
                results[mode]["waits"] += r["waits"]
                results[mode]["makespan"].append(r["backlog_makespan_s"])
    for mode, r in results.items():
        out[mode] = {"first_stage_wait_p50_s": round(_pct(r["waits"], 0.5), 4),
                     "first_stage_wait_p99_s": round(_pct(r["waits"], 0.99), 4),
                     "first_stage_wait_mean_s": round(statistics.fmean(r["waits"]), 4),
                     "backlog_makespan_median_s": round(statistics.median(r["makespan"]), 3),
                     "samples": len(r["waits"])}
    fifo, fair = out["fifo"], out["fair"]
    for q in ("p50", "p99"):
        key = f"first_stage_wait_{q}_s"
        out[f"ratio_fifo_over_fair_{q}"] = round(fifo[key] / max(fair[key], 1e-6), 1)
    out["backlog_makespan_fair_over_fifo"] = round(
        fair["backlog_makespan_median_s"] / fifo["backlog_makespan_median_s"], 3)
    print(f"{'':6} {'p50 wait':>10} {'p99 wait':>10} {'backlog makespan':>18}")
    for mode in ("fifo", "fair"):
        r = out[mode]
        print(f"{mode:6} {r['first_stage_wait_p50_s']:>9.3f}s {r['first_stage_wait_p99_s']:>9.3f}s "
              f"{r['backlog_makespan_median_s']:>17.2f}s")
    print(f"fifo/fair: p50 x{out['ratio_fifo_over_fair_p50']}, p99 x{out['ratio_fifo_over_fair_p99']}; "
          f"the backlog tenant's makespan fair/fifo {out['backlog_makespan_fair_over_fifo']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fairness.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
