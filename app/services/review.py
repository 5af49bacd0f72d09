"""Review before assembly: read the alignment, fix a beat's clips, approve.

Edits are data: the edited alignment is validated against the contract (known beats and
sources, ``0 <= start < end <= duration``, no overlapping footage) and stored on the job;
the assemble stage uses it instead of the computed one. Every part of an edit is checked
before the database sees it (a malformed clip is a ValidationError naming ``beats``), and an
approved alignment is frozen: what is assembled is what was approved.

    beats = await get_alignment(principal, job_id)
    await update_alignment(principal, job_id, [{"index": 2, "clips": [...]}])
    await approve_alignment(principal, job_id)
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.config import Settings, get_settings
from app.db import tenant_tx
from app.errors import ConflictError, NotFoundError, ValidationError
from app.models import Artifact, Asset, AssetKind, AssetStatus, Job, JobState, Role, Stage, StageRun, StageState
from app.queue import enqueue_stage
from app.services import render_events
from app.storage.shared import shared_storage

EDITABLE = (JobState.WAITING_REVIEW, JobState.QUEUED, JobState.RUNNING)
MAX_CLIPS = 200


async def _computed(conn: Any, job: Job, settings: Settings) -> dict[str, Any]:
    run = await StageRun.filter(job_id=job.id, stage=Stage.ALIGN).using_db(conn).first()
    if run is None or run.state is not StageState.SUCCEEDED or run.artifact_id is None:  # type: ignore[attr-defined]
        raise ConflictError("the alignment is not ready yet", "jobId")
    art = await Artifact.filter(id=run.artifact_id).using_db(conn).first()  # type: ignore[attr-defined]
    if art is None:
        raise ConflictError("the alignment artifact is missing", "jobId")
    storage = shared_storage(settings)
    chunks = [c async for c in storage.open_range(f"{art.storage_key}/alignment.json", 0, None)]
    data: dict[str, Any] = json.loads(b"".join(chunks))
    return data


async def get_alignment(principal: Principal, job_id: UUID | str, settings: Settings | None = None
                        ) -> dict[str, Any]:
    """The job's alignment (the user's edit when there is one)."""
    async with tenant_tx(principal.tenant_id) as conn:
        job = await Job.filter(id=job_id, tenant_id=principal.tenant_id).using_db(conn).first()
        if job is None:
            raise NotFoundError("job not found", "jobId")
        edit = job.options.get("alignment_edit")
        return dict(edit) if edit else await _computed(conn, job, settings or get_settings())


def _number(value: Any) -> float | None:
    """A finite JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _clip(index: int, clip: Any, durations: dict[str, float]) -> dict[str, Any]:
    """One edited clip in canonical form; ValidationError("beats") for anything malformed."""
    if not isinstance(clip, dict):
        raise ValidationError(f"beat {index}: each clip must be an object {{source, start, end}}", "beats")
    src = clip.get("source")
    if not isinstance(src, str) or src not in durations:
        raise ValidationError(f"beat {index}: unknown source {str(src)[:20]!r}", "beats")
    start, end = _number(clip.get("start")), _number(clip.get("end"))
    score = _number(clip.get("score", 1.0))
    if start is None or end is None or score is None:
        raise ValidationError(f"beat {index}: start, end and score must be finite numbers", "beats")
    if not 0 <= start < end <= durations[src] + 1e-3:
        raise ValidationError(f"beat {index}: need 0 <= start < end <= {durations[src]:.3f}", "beats")
    return {"source": src, "start": start, "end": end, "score": min(1.0, max(0.0, score))}


def _validate(base: dict[str, Any], beats: list[dict[str, Any]]) -> dict[str, Any]:
    durations = {s["id"]: float(s["duration"]) for s in base["sources"]}
    by_index = {b["index"]: b for b in base["beats"]}
    edited: set[int] = set()
    for beat in beats:
        index = beat.get("index")
        if not isinstance(index, int) or index not in by_index:
            raise ValidationError(f"beat {str(index)[:20]!r} is not in this alignment", "beats")
        if index in edited:
            raise ValidationError(f"beat {index} is edited twice", "beats")
        edited.add(index)
        clips = _picked_alternative(by_index[index], beat) if beat.get("alternative") is not None \
            else beat.get("clips")
        if not isinstance(clips, list) or len(clips) > MAX_CLIPS:
            raise ValidationError(f"beat {index}: clips must be a list (at most {MAX_CLIPS})", "beats")
        by_index[index] = {**by_index[index], **_swapped_alternatives(by_index[index], beat),
                           "clips": [_clip(index, c, durations) for c in clips], "confidence": 1.0,
                           "needs_review": False}
    _check_no_reuse(by_index)
    return {**base, "beats": [by_index[i] for i in sorted(by_index)]}


def _picked_alternative(current: dict[str, Any], edit: dict[str, Any]) -> Any:
    """The clips of the alternative the reviewer picked (``alternative``: its position in the beat's
    ``alternatives``, best first); clips and an alternative together are ambiguous."""
    index, k = current["index"], edit["alternative"]
    if edit.get("clips") is not None:
        raise ValidationError(f"beat {index}: give clips or an alternative, not both", "beats")
    alts = current.get("alternatives") or []
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(alts):
        raise ValidationError(f"beat {index}: alternative must be 0..{len(alts) - 1} (it has {len(alts)})", "beats")
    return alts[k].get("clips")


def _swapped_alternatives(current: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
    """After picking alternative k, the placement it replaces becomes alternative k (nothing is lost)."""
    k = edit.get("alternative")
    if k is None:
        return {}
    alts = list(current.get("alternatives") or [])
    alts[k] = {"clips": current.get("clips", []), "score": float(current.get("confidence", 0.0))}
    return {"alternatives": alts}


def _check_no_reuse(beats: dict[int, dict[str, Any]]) -> None:
    """No footage in two places: across ALL beats after the edit, not only the edited ones."""
    spans: dict[str, list[tuple[float, float, int]]] = {}
    for index, beat in beats.items():
        for clip in beat.get("clips", []):
            spans.setdefault(clip["source"], []).append((float(clip["start"]), float(clip["end"]), index))
    for src, items in spans.items():
        items.sort()
        for a, b in itertools.pairwise(items):
            if a[1] > b[0] + 1e-3:
                raise ValidationError(f"beats {a[2]} and {b[2]} would both use {src} at "
                                      f"{b[0]:.2f}-{min(a[1], b[1]):.2f} s; footage is never reused", "beats")


async def _locked_job(conn: Any, principal: Principal, job_id: UUID | str) -> Job:
    job = await Job.filter(id=job_id, tenant_id=principal.tenant_id).using_db(conn).select_for_update().first()
    if job is None:
        raise NotFoundError("job not found", "jobId")
    return job


async def update_alignment(principal: Principal, job_id: UUID | str, beats: list[dict[str, Any]],
                           settings: Settings | None = None) -> dict[str, Any]:
    principal.require(Role.EDITOR)
    settings = settings or get_settings()
    async with tenant_tx(principal.tenant_id) as conn:
        job = await _locked_job(conn, principal, job_id)
        assembled = await StageRun.filter(job_id=job.id, stage=Stage.ASSEMBLE,
                                          state__in=[StageState.RUNNING, StageState.SUCCEEDED]).using_db(conn).exists()
        if job.state not in EDITABLE or assembled:
            raise ConflictError("the alignment can only change before assembly starts", "jobId")
        if job.options.get("approved"):  # assembly is queued with what was approved: frozen
            raise ConflictError("the alignment was approved and is frozen", "jobId", code="ALIGNMENT_FROZEN")
        base = job.options.get("alignment_edit") or await _computed(conn, job, settings)
        edited = _validate(base, beats)
        job.options = {**job.options, "alignment_edit": edited}
        await job.save(using_db=conn)
    return edited


async def approve_alignment(principal: Principal, job_id: UUID | str, settings: Settings | None = None) -> Job:
    principal.require(Role.EDITOR)
    settings = settings or get_settings()
    async with tenant_tx(principal.tenant_id) as conn:
        job = await _locked_job(conn, principal, job_id)
        if job.state is not JobState.WAITING_REVIEW:
            raise ConflictError(f"the job is not waiting for review (it is {job.state.value})", "jobId")
        job.options = {**job.options, "approved": True}
        job.state = JobState.RUNNING
        await job.save(using_db=conn)
        run = await StageRun.filter(job_id=job.id, stage=Stage.ASSEMBLE).using_db(conn).first()
        await StageRun.filter(job_id=job.id, stage=Stage.ASSEMBLE, state=StageState.PENDING
                              ).using_db(conn).update(state=StageState.QUEUED)
    await enqueue_stage(job.id, Stage.ASSEMBLE, attempt=(run.attempt if run else 0) + 1, settings=settings)
    await render_events.job_event(principal.tenant_id, job, "running", "alignment approved")
    return job


async def job_source_assets(principal: Principal, job_id: UUID) -> list[Asset]:
    """The job's source videos in the order ingest numbered them (``s0``, ``s1``...)."""
    async with tenant_tx(principal.tenant_id) as conn:
        job = await Job.filter(id=job_id, tenant_id=principal.tenant_id).using_db(conn).first()
        if job is None:
            raise NotFoundError("job not found", "jobId")
        ready = Asset.filter(project_id=job.project_id, tenant_id=principal.tenant_id,  # type: ignore[attr-defined]
                             kind=AssetKind.SOURCE_VIDEO, status=AssetStatus.READY).using_db(conn)
        wanted = [str(a) for a in job.options.get("source_asset_ids") or []]
        if not wanted:
            return list(await ready.order_by("created_at", "id"))
        by_id = {str(a.id): a for a in await ready.filter(id__in=wanted)}
        return [by_id[a] for a in wanted if a in by_id]
