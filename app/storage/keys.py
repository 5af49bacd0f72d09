"""Storage keys: the folder layout of ARCHITECTURE.md and the validation every backend applies.

A key is ``/``-separated segments of ``[A-Za-z0-9._-]`` (first character alphanumeric, so no
``..``, no dot files and no clash with a backend's temporary names), at most 1024 characters,
under one of the known roots. User file names never become keys: only ids and fixed names do.

    key = input_key(tenant_id, project_id, asset_id, ".mp4")   # inputs/<t>/<p>/<asset>.mp4
    validate_key(key)                                         # returns it, or raises InvalidKeyError
    output_key(job_id, "final.mp4")                           # outputs/<job>/final.mp4
"""

from __future__ import annotations

import re
from uuid import UUID

from app.storage.errors import InvalidKeyError

ROOTS = ("inputs", "intermediate", "upscale_inputs", "upscale_outputs", "outputs", "exports")
#: The roots a job writes under, each as ``{root}/{job_id}/``.
JOB_ROOTS = ("intermediate", "upscale_inputs", "upscale_outputs", "outputs")
MAX_KEY_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,8}")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged when it is a well-formed key under a known root, else raise InvalidKeyError."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError("storage key must be 1..1024 characters")
    segments = key.split("/")
    if segments[0] not in ROOTS:
        raise InvalidKeyError(f"storage key must start with one of {', '.join(ROOTS)}")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or ".." in segment:
            raise InvalidKeyError("storage key segment is not [A-Za-z0-9._-] starting alphanumeric")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: a key, or a key followed by ``/``."""
    validate_key(prefix.rstrip("/"))
    return prefix


def safe_extension(filename: str) -> str:
    """The lower-cased extension of a (sanitised) file name when it is short and plain, else ``""``."""
    dot = filename.rfind(".")
    if dot <= 0:
        return ""
    ext = filename[dot:].lower()
    return ext if _EXTENSION.fullmatch(ext) else ""


def _name(name: str) -> str:
    """A fixed (code-chosen) name below a job folder; may contain ``/`` between valid segments."""
    for segment in name.split("/"):
        if not _SEGMENT.fullmatch(segment) or ".." in segment:
            raise InvalidKeyError(f"invalid storage name {name!r}")
    return name


def input_key(tenant_id: UUID, project_id: UUID, asset_id: UUID, extension: str = "") -> str:
    """``inputs/{tenant}/{project}/{asset}{ext}``; ``extension`` comes from :func:`safe_extension`."""
    if extension and not _EXTENSION.fullmatch(extension):
        raise InvalidKeyError("invalid extension")
    return validate_key(f"inputs/{tenant_id}/{project_id}/{asset_id}{extension}")


def project_prefix(tenant_id: UUID, project_id: UUID) -> str:
    return f"inputs/{tenant_id}/{project_id}/"


def intermediate_key(job_id: UUID, name: str) -> str:
    return validate_key(f"intermediate/{job_id}/{_name(name)}")


def upscale_input_key(job_id: UUID, name: str) -> str:
    return validate_key(f"upscale_inputs/{job_id}/{_name(name)}")


def upscale_output_key(job_id: UUID, name: str) -> str:
    return validate_key(f"upscale_outputs/{job_id}/{_name(name)}")


def output_key(job_id: UUID, name: str) -> str:
    return validate_key(f"outputs/{job_id}/{_name(name)}")


def job_prefixes(job_id: UUID) -> list[str]:
    """Every prefix a job writes under (for deleting a job's files)."""
    return [f"{root}/{job_id}/" for root in JOB_ROOTS]


def export_key(user_id: UUID, export_id: UUID) -> str:
    """``exports/{user}/{export}.zip``: a personal-data export (GDPR Art. 15/20)."""
    return validate_key(f"exports/{user_id}/{export_id}.zip")


def tenant_cache_prefix(tenant_id: UUID) -> str:
    """Where the tenant's content-addressed stage cache lives (``intermediate/{tenant}/cache/``)."""
    return f"intermediate/{tenant_id}/"
