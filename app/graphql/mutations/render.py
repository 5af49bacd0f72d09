"""Mutations of the render domain: startRender, cancelJob, retryJob, updateAlignment, approveAlignment.

They record intent and enqueue; no media work happens in a request.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
    error_for,
)
from app.graphql.inputs.render import BeatEditInput, RenderOptionsInput, UpscaleInput
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.job import Job
from app.graphql.types.render import AlignmentPayload, JobPayload
from app.services import render, review
from app.services.text import parse_id

StartRenderResult = Annotated[
    JobPayload | ValidationError | NotFoundError | PermissionDeniedError | QuotaExceededError,
    strawberry.union("StartRenderResult")]
JobChangeResult = Annotated[JobPayload | NotFoundError | PermissionDeniedError | ConflictError,
                            strawberry.union("JobChangeResult")]
AlignmentEditResult = Annotated[
    AlignmentPayload | ValidationError | NotFoundError | PermissionDeniedError | ConflictError,
    strawberry.union("AlignmentEditResult")]


def _upscale(value: UpscaleInput | None) -> dict[str, Any] | bool:
    if value is None:
        return False
    return {"model": value.model, "target": value.target.value, "tile": value.tile,
            "chunk_seconds": value.chunk_seconds}


def _options(value: RenderOptionsInput | None) -> render.RenderOptions:
    v = value or RenderOptionsInput()
    return render.RenderOptions(
        profile=v.profile, narration=v.narration,
        narration_asset_id=str(v.narration_asset_id) if v.narration_asset_id else None,
        script_asset_id=str(v.script_asset_id) if v.script_asset_id else None, script_text=v.script_text,
        source_asset_ids=[str(a) for a in v.source_asset_ids or []], upscale=_upscale(v.upscale),
        burn_captions=v.burn_captions, review=v.review, title=v.title, words_per_minute=v.words_per_minute)


@strawberry.type
class RenderMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED, description="Start a render of a project.")
    async def start_render(self, info: Info[RecapContext, Any], project_id: strawberry.ID,
                           options: RenderOptionsInput | None = None) -> StartRenderResult:
        try:
            job = await render.start_render(info.context.principal(),
                                            parse_id(project_id, what="project", field="projectId"),
                                            _options(options), info.context.settings)
        except AppError as ex:
            return error_for(ex, StartRenderResult)
        return JobPayload(job=Job.from_model(job))

    @strawberry.mutation(permission_classes=AUTHENTICATED, description="Stop a job (within about 2 s).")
    async def cancel_job(self, info: Info[RecapContext, Any], job_id: strawberry.ID) -> JobChangeResult:
        try:
            job = await render.cancel_job(info.context.principal(), parse_id(job_id, what="job", field="jobId"))
        except AppError as ex:
            return error_for(ex, JobChangeResult)
        return JobPayload(job=Job.from_model(job))

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Resume a failed or cancelled job from the stage that stopped.")
    async def retry_job(self, info: Info[RecapContext, Any], job_id: strawberry.ID) -> JobChangeResult:
        try:
            job = await render.retry_job(info.context.principal(), parse_id(job_id, what="job", field="jobId"),
                                         info.context.settings)
        except AppError as ex:
            return error_for(ex, JobChangeResult)
        return JobPayload(job=Job.from_model(job))

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Replace the clips of some beats before assembly.")
    async def update_alignment(self, info: Info[RecapContext, Any], job_id: strawberry.ID,
                               beats: list[BeatEditInput]) -> AlignmentEditResult:
        try:
            edits = [{"index": b.index, "clips": b.clips, "alternative": b.alternative} for b in beats]
            data = await review.update_alignment(info.context.principal(),
                                                 parse_id(job_id, what="job", field="jobId"), edits,
                                                 info.context.settings)
        except AppError as ex:
            return error_for(ex, AlignmentEditResult)
        return AlignmentPayload(job_id=job_id, edited=True, alignment=data)  # type: ignore[arg-type]

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Let a job that waits for review go on to assembly.")
    async def approve_alignment(self, info: Info[RecapContext, Any], job_id: strawberry.ID) -> JobChangeResult:
        try:
            job = await review.approve_alignment(info.context.principal(),
                                                 parse_id(job_id, what="job", field="jobId"), info.context.settings)
        except AppError as ex:
            return error_for(ex, JobChangeResult)
        return JobPayload(job=Job.from_model(job))
