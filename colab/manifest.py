"""The chunked, checkpointed run: split once, upscale chunk by chunk, record each segment, join.

``work/`` mirrors storage: ``inputs/`` holds the chunks (``upscale_inputs/{job_id}/``), ``outputs/``
the segments and ``manifest.json`` (``upscale_outputs/{job_id}/``). The manifest is rewritten
atomically after every segment; a restart skips each chunk whose segment exists with the recorded
sha256 and frame count, and redoes a missing or corrupt one::

    result = upscale_chunked(Path("in.mp4"), Path("out.mp4"), Path("work"), up, ChunkOptions(chunk_seconds=10))
    result.processed, result.skipped        # chunk indices
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from colab.chunks import Chunk, ChunkError, count_frames, join_segments, sha256_file, split_keyframes
from colab.infer import Upscaler
from colab.video import VideoOptions, upscale_video

VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ChunkOptions:
    chunk_seconds: float = 10.0
    resume: bool = True
    video: VideoOptions = field(default_factory=VideoOptions)

    def __post_init__(self) -> None:
        if self.chunk_seconds <= 0:
            raise ValueError("chunk_seconds must be > 0")


@dataclass
class ChunkedResult:
    frames: int
    chunks: int
    processed: list[int]
    skipped: list[int]
    redone: list[int]
    seconds_model: float = 0.0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def run_key(src_sha: str, model: str, options: ChunkOptions) -> dict[str, Any]:
    """What a manifest must match to be resumed: the input, the model and every output-shaping option."""
    video = asdict(options.video)
    for k in ("batch", "queue_depth", "threads"):
        video.pop(k)
    return {"input_sha256": src_sha, "model": model, "chunk_seconds": options.chunk_seconds, "video": video}


def load_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def new_manifest(src: Path, work: Path, model: str, options: ChunkOptions) -> dict[str, Any]:
    key = run_key(sha256_file(src), model, options)
    chunks = split_keyframes(src, work / "inputs", options.chunk_seconds)
    return {"version": VERSION, "key": key, "chunks": [c.to_json() for c in chunks], "segments": {}}


def prepare(src: Path, work: Path, model: str, options: ChunkOptions) -> dict[str, Any]:
    """The manifest to work from: the stored one when it matches this run and ``resume`` is on."""
    (work / "outputs").mkdir(parents=True, exist_ok=True)
    old = load_manifest(work / "outputs") if options.resume else None
    if old is not None and old.get("key") == run_key(sha256_file(src), model, options):
        chunks = [Chunk.from_json(c) for c in old["chunks"]]
        if all((work / "inputs" / c.name).exists() and sha256_file(work / "inputs" / c.name) == c.sha256
               for c in chunks):
            return old
    manifest = new_manifest(src, work, model, options)
    _write_json(work / "outputs" / MANIFEST, manifest)
    return manifest


def segment_ok(work: Path, chunk: Chunk, record: dict[str, Any] | None) -> bool:
    """The segment exists, hashes to what the manifest recorded, and holds the chunk's frame count."""
    path = work / "outputs" / chunk.segment
    if record is None or not path.exists():
        return False
    return sha256_file(path) == record.get("sha256") and record.get("frames") == chunk.frames


def upscale_chunk(work: Path, chunk: Chunk, up: Upscaler, video: VideoOptions, *,
                  progress: Callable[[float], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Upscale one chunk into its segment (written whole, then renamed); returns its manifest record."""
    src, dest = work / "inputs" / chunk.name, work / "outputs" / chunk.segment
    tmp = dest.with_name(f".{dest.name}.part")
    result = upscale_video(src, tmp, up, VideoOptions(**{**asdict(video), "audio": False}), progress=progress,
                           cancel=cancel, time_base=Fraction(chunk.time_base), rebase=True)
    if result.frames != chunk.frames or count_frames(tmp) != chunk.frames:
        raise ChunkError(f"{chunk.segment}: {result.frames} frames for a chunk of {chunk.frames}")
    os.replace(tmp, dest)
    return {"sha256": sha256_file(dest), "frames": result.frames, "model_seconds": result.model_seconds}


def record_segment(work: Path, manifest: dict[str, Any], chunk: Chunk, record: dict[str, Any]) -> None:
    manifest["segments"][str(chunk.index)] = record
    _write_json(work / "outputs" / MANIFEST, manifest)


def _chunk_progress(progress: Callable[[int, int, float], None] | None, index: int,
                    total: int) -> Callable[[float], None] | None:
    if progress is None:
        return None
    report = progress
    return lambda f: report(index, total, f)


def upscale_chunked(src: Path, dest: Path, work: Path, up: Upscaler, model: str,
                    options: ChunkOptions | None = None, *,
                    progress: Callable[[int, int, float], None] | None = None,
                    cancel: Callable[[], bool] | None = None,
                    on_segment: Callable[[Chunk, Path], None] | None = None) -> ChunkedResult:
    """See the module docstring. ``progress(chunk_index, chunks, fraction_of_chunk)``."""
    options = options or ChunkOptions()
    manifest = prepare(src, work, model, options)
    chunks = [Chunk.from_json(c) for c in manifest["chunks"]]
    result = ChunkedResult(sum(c.frames for c in chunks), len(chunks), [], [], [])
    for chunk in chunks:
        record = manifest["segments"].get(str(chunk.index))
        if segment_ok(work, chunk, record):
            result.skipped.append(chunk.index)
            continue
        if record is not None:
            result.redone.append(chunk.index)
        record = upscale_chunk(work, chunk, up, options.video, cancel=cancel,
                               progress=_chunk_progress(progress, chunk.index, len(chunks)))
        record_segment(work, manifest, chunk, record)
        result.processed.append(chunk.index)
        result.seconds_model += float(record["model_seconds"])
        if on_segment is not None:
            on_segment(chunk, work / "outputs" / chunk.segment)
    segments = [work / "outputs" / c.segment for c in chunks]
    written = join_segments(segments, chunks, src, dest, audio=options.video.audio)
    if written != result.frames:
        raise ChunkError(f"joined {written} frames, the input has {result.frames}")
    return result
