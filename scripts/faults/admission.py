"""Many concurrent renders from many tenants against a per-tenant concurrency quota.

``--tenants`` tenants (quota ``--quota`` concurrent jobs each) send ``--renders`` startRender calls
in parallel, spread evenly. Exactly ``tenants * quota`` must be admitted (each tenant exactly its
quota), every refusal must be a typed QUOTA_EXCEEDED on ``concurrentJobs``, and every admitted job
must finish. Fair share: with two workers, no tenant's first finished job may wait for another
tenant's whole batch (the order in which tenants get their first stage done is reported).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from common import job_state, sample_film, stack, wait_until


def short_clip(film: Any, folder: Path, seconds: float) -> Path:
    """The first ``seconds`` of the sample film, packet copy (no re-encode)."""
    import av

    out = folder / f"clip_{seconds:.0f}s.mp4"
    if out.exists():
        return out
    with av.open(str(film.movie)) as src, av.open(str(out), "w") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        for packet in src.demux():
            if packet.stream.index not in streams or packet.dts is None:
                continue
            if packet.pts is not None and float(packet.pts * packet.time_base) > seconds:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    return out


async def scenario(work: Path, film: Any, tenants: int, quota: int, renders: int, limit_s: float
                   ) -> tuple[list[str], dict[str, Any]]:
    import hashlib

    from app.auth.principal import Principal
    from app.db import system_tx
    from app.errors import QuotaExceededError
    from app.models import Asset, AssetKind, AssetStatus, Membership, Project, QuotaPolicy, Role, StageRun, Tenant, User
    from app.services import render
    from app.storage import get_storage
    from media.probe import probe

    clip = short_clip(film, work, 12.0)
    script = "# One\n\nThe caretaker finds the map in the lighthouse and decides to follow it at dawn.\n"
    problems: list[str] = []
    async with stack(work / "run") as st:
        storage = get_storage(st.settings)
        calls: list[tuple[Principal, Any]] = []
        for t in range(tenants):
            async with system_tx():
                tenant = await Tenant.create(name=f"t{t}", slug=f"t{t}-{uuid.uuid4().hex[:8]}")
                await QuotaPolicy.create(tenant_id=tenant.id, concurrent_jobs=quota,
                                         processing_minutes_per_month=10_000, storage_bytes=10 * 1024**3)
                user = await User.create(email=f"{uuid.uuid4().hex[:8]}@adm.example", display_name="a",
                                         password_hash="!")  # noqa: S106 (no sign-in)
                await Membership.create(user_id=user.id, tenant_id=tenant.id, role=Role.EDITOR)
                project = await Project.create(tenant_id=tenant.id, name="adm")
            key = f"inputs/{tenant.id}/{project.id}/{uuid.uuid4().hex}.mp4"
            await storage.put_file(key, clip)
            async with system_tx():
                await Asset.create(tenant_id=tenant.id, project_id=project.id, kind=AssetKind.SOURCE_VIDEO,
                                   status=AssetStatus.READY, filename=clip.name, storage_key=key,
                                   size_bytes=clip.stat().st_size, probe=probe(clip).to_json(),
                                   sha256=hashlib.sha256(clip.read_bytes()).hexdigest())
            calls.append((Principal(user.id, tenant.id, Role.EDITOR), project.id))

        async def start(i: int) -> tuple[int, Any]:
            principal, project_id = calls[i % tenants]
            try:
                job = await render.start_render(principal, project_id,
                                                render.RenderOptions(profile="source", script_text=script), st.settings)
                return i % tenants, job
            except QuotaExceededError as ex:
                return i % tenants, ex
        results = await asyncio.gather(*(start(i) for i in range(renders)))
        admitted: dict[int, list[Any]] = {}
        for t, outcome in results:
            if isinstance(outcome, QuotaExceededError):
                if outcome.field != "concurrentJobs":
                    problems.append(f"a refusal named {outcome.field!r}, not concurrentJobs")
            else:
                admitted.setdefault(t, []).append(outcome)
        total = sum(len(v) for v in admitted.values())
        want = tenants * min(quota, renders // tenants)
        if total != want or any(len(v) != min(quota, renders // tenants) for v in admitted.values()):
            problems.append(f"admitted {total} (per tenant {sorted(len(v) for v in admitted.values())}), want {want}")
        started = time.monotonic()
        for i in range(2):
            st.spawn_worker(f"worker-{i}")
        jobs = [job for v in admitted.values() for job in v]

        async def all_ended() -> bool:
            return all([await job_state(j.id) in ("succeeded", "failed", "cancelled") for j in jobs])
        await wait_until(all_ended, limit_s, "every admitted job to end")
        wall = time.monotonic() - started
        states = [await job_state(j.id) for j in jobs]
        if any(s != "succeeded" for s in states):
            problems.append(f"job states: {sorted(states)}")
        # fair share: when did each tenant's first ingest finish, in finishing order
        firsts: list[tuple[float, int]] = []
        async with system_tx():
            for t, v in admitted.items():
                runs = await StageRun.filter(job_id__in=[j.id for j in v], stage="ingest")
                done = [r.finished_at.timestamp() for r in runs if r.finished_at]
                if done:
                    firsts.append((min(done), t))
        firsts.sort()
        order = [t for _, t in firsts]
    return problems, {"admitted": total, "calls": renders, "tenants": tenants, "quota": quota,
                      "wall_s": round(wall, 1), "first_ingest_order": order}


def run(work: Path, tenants: int, quota: int, renders: int, limit_s: float) -> tuple[int, list[str], dict[str, Any]]:
    film = sample_film(work / "film")
    problems, figures = asyncio.run(scenario(work, film, tenants, quota, renders, limit_s))
    print(f"admission: {figures}", problems if problems else "ok")
    return 1, problems, figures
