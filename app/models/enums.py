"""Enumerations stored in the database (as short strings)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


#: Higher rank may do everything a lower rank may.
ROLE_RANK: dict[Role, int] = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class AssetKind(StrEnum):
    SOURCE_VIDEO = "source_video"
    SCRIPT = "script"
    NARRATION_AUDIO = "narration_audio"
    INTRO = "intro"
    OUTRO = "outro"


class AssetStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING_REVIEW = "waiting_review"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_JOB_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
ACTIVE_JOB_STATES = frozenset({JobState.QUEUED, JobState.RUNNING, JobState.WAITING_REVIEW})


class Stage(StrEnum):
    INGEST = "ingest"
    ANALYSE = "analyse"
    TRANSCRIBE = "transcribe"
    SCRIPT = "script"
    ALIGN = "align"
    MODERATE = "moderate"
    ASSEMBLE = "assemble"
    UPSCALE = "upscale"
    FINALIZE = "finalize"
    DELIVER = "deliver"


class StageState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class UploadState(StrEnum):
    CREATED = "created"
    RECEIVING = "receiving"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
