"""kill -9 the worker at N random points of one render; a new worker takes over each time.

A point is "a target stage is RUNNING, then a random 0-``jitter`` s more": targets are drawn at random
over the pipeline's stages (sorted into pipeline order, since one render passes each stage once), so the
kills land inside every kind of stage (ingest, analyse, transcribe, ..., deliver), not in start-ups.
After the last kill a worker runs the job to the end. One run passes when the job succeeded and :func:`check_render`
finds nothing wrong (each artifact once, output decodes, counters charged exactly once).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path
from typing import Any

from common import check_render, job_state, new_job, running_stage, sample_film, stack, usage, wait_until


async def one_render(work: Path, film: Any, points: int, rng: random.Random, jitter: float,
                     limit_s: float) -> tuple[list[str], list[str]]:
    """(problems, where each kill landed) for one render killed ``points`` times."""
    lease = {"RECAP_WORKER__LEASE_SECONDS": "5", "RECAP_WORKER__MAX_ATTEMPTS": str(points + 3),
             "RECAP_WORKER__RETRY_BASE_SECONDS": "0.5"}
    from app.pipeline import ORDER

    names = [stage.value for stage in ORDER]
    targets = sorted(rng.choices(names, k=points), key=names.index)
    landed: list[str] = []
    async with stack(work) as st:
        principal, job = await new_job(st, film)
        before = await usage(principal.tenant_id)
        for i in range(points):
            worker = st.spawn_worker(f"worker-{i}", **lease)

            async def working(w: Any = worker, target: str = targets[i]) -> bool:
                now = await running_stage(job.id)
                past = now is not None and names.index(now) >= names.index(target)
                return past or w.poll() is not None or await job_state(job.id) in ("succeeded", "failed")
            await wait_until(working, limit_s, "a stage to run")
            if await job_state(job.id) in ("succeeded", "failed"):
                worker.kill()
                break
            await asyncio.sleep(rng.uniform(0, jitter))
            landed.append(await running_stage(job.id) or "between stages")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        st.spawn_worker("worker-last", **lease)

        async def ended() -> bool:
            return await job_state(job.id) in ("succeeded", "failed", "cancelled")
        await wait_until(ended, limit_s, "the job to end")
        problems = await check_render(st, principal, job.id, charged_before=before)
    return problems, landed


def run(work: Path, points: int, renders: int, seed: int, jitter: float, limit_s: float) -> tuple[int, list[str],
                                                                                              dict[str, Any]]:
    rng = random.Random(seed)
    film = sample_film(work / "film")
    failures: list[str] = []
    kills: list[list[str]] = []
    per_render = max(1, points // renders)

    async def all_renders() -> None:  # one event loop: the app's Redis clients and pools belong to it
        for r in range(renders):
            problems, landed = await one_render(work / f"render-{r}", film, per_render, rng, jitter, limit_s)
            kills.append(landed)
            failures.extend(f"render {r} (kills in {landed}): {p}" for p in problems)
            print(f"render {r}: killed in {landed}: {problems if problems else 'ok'}", flush=True)
    asyncio.run(all_renders())
    return sum(len(k) for k in kills), failures, {"kills": kills, "seed": seed}
