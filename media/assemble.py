"""Frame-accurate assembly of an edit list into one video file.

Smart render by default: whole GOPs are copied packet for packet and only the partial
GOPs at cut edges are re-encoded (see :mod:`media.smartcut`); a full re-encode to the
output profile is the fallback when sources differ or pixels must change::

    result = assemble(edl, "recap.mp4", AssembleOptions(), progress=print)
    print(result.mode, result.copied_frames, result.reencoded_frames)
    Path("assemble.json").write_text(json.dumps(result.to_json()))

Output is written to a temporary name in the same folder and renamed at the end; on any
failure the temporary file is removed. Errors: ``EditListError`` (EDL_*) for a bad edit
list, ``DecodeError`` for unreadable sources, ``EncodeError``, ``OutputError``
(OUTPUT_FAILED: unwritable path, disk full) and ``CancelledError``.
"""

from __future__ import annotations

import errno
import itertools
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from media._assemble_audio import AudioTrack
from media._assemble_facts import FORMATS, VideoFacts, check_output, check_ranges, probe_video, smart_blocker
from media._assemble_reencode import FrameFilter, Reencoder
from media.edl import EditList, EdlClip, frame_range, validate_edl
from media.errors import CancelledError, DecodeError, EncodeError, MediaError, OutputError
from media.profiles import OutputProfile, get_profile
from media.smartcut import EdgeEncoding, PacketSink, SmartSource
from media.types import CancelFn, ProgressFn, never_cancel

_MODES = ("auto", "smart", "reencode")
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@dataclass(frozen=True, slots=True)
class AssembleOptions:
    """How to assemble.

    Attributes:
        mode: "auto" (smart when the sources allow it), "smart" (fail if they do not) or "reencode".
        profile: output profile name; None uses the edit list's.
        edge_preset / edge_crf: x264 settings for re-encoded cut edges (default: the profile's preset, crf 18).
        frame_filter: changes pixels (burned-in captions, title cards); forces the re-encode path.
        faststart: move the index to the front of MP4 files (for streaming).
        threads: codec threads (0: automatic).
        audio: write the source audio track (False: video only, e.g. when a mix replaces it later).
        edge_workers: threads that re-encode cut edges while packets are copied (0: inline; None:
            one per 4 CPU cores, at most 4, since x264 already threads each edge).
    """

    mode: str = "auto"
    profile: str | None = None
    edge_preset: str | None = None
    edge_crf: int = 18
    frame_filter: FrameFilter | None = None
    faststart: bool = True
    threads: int = 0
    edge_workers: int | None = None
    audio: bool = True

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}")
        if not 0 <= self.edge_crf <= 51:
            raise ValueError("edge_crf must be in [0, 51]")
        if self.threads < 0 or (self.edge_workers is not None and self.edge_workers < 0):
            raise ValueError("threads and edge_workers must be >= 0")


@dataclass(frozen=True, slots=True)
class AssembleResult:
    path: str
    duration: float
    frames: int
    mode: str
    reencoded_frames: int
    copied_frames: int
    fps: float
    width: int
    height: int
    audio_samples: int
    sample_rate: int
    elapsed: float
    reason: str = ""
    #: Output frame number where each clip starts (seconds: ``clip_frames[i] / fps``).
    clip_frames: tuple[int, ...] = ()

    def clip_start(self, index: int) -> float:
        """Where clip ``index`` starts in the output, in seconds (exact, frame-aligned)."""
        return self.clip_frames[index] / self.fps

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["clip_frames"] = list(self.clip_frames)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AssembleResult:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["clip_frames"] = tuple(int(n) for n in data.get("clip_frames", ()))
        return cls(**values)


def assemble(edl: EditList, out_path: str | os.PathLike[str], options: AssembleOptions = AssembleOptions(),
             progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> AssembleResult:
    """Render an edit list to ``out_path`` (video + AAC audio).

    Args:
        edl: the edit list (validated here, source files included).
        out_path: the file to write (.mp4, .mov or .mkv).
        options: mode, profile and encoder settings.
        progress: receives the fraction of output frames written.
        cancel: returns True to stop; raises CancelledError and leaves no file.

    Returns:
        What was written, and how (mode "copy" when no frame needed re-encoding).

    Raises:
        EditListError, DecodeError, EncodeError, OutputError, CancelledError.
    """
    started = time.perf_counter()
    out = Path(out_path)
    check_output(out)
    validate_edl(edl)
    if any(os.path.exists(s.path) and os.path.samefile(s.path, out) for s in edl.sources if out.exists()):
        raise OutputError(f"output {out.name} would overwrite one of its sources")
    profile = get_profile(options.profile or edl.profile)
    facts = {path: probe_video(path) for path in dict.fromkeys(c.path for c in edl.clips)}
    check_ranges(edl, facts)
    blocker = smart_blocker(list(facts.values()), edl, profile, options.frame_filter is not None)
    if options.mode == "smart" and blocker:
        raise EncodeError(f"smart render impossible: {blocker}")
    smart = options.mode != "reencode" and blocker is None
    job = _Job(edl, profile, options, facts, progress, cancel or never_cancel)
    fmt = FORMATS[out.suffix.lower()]
    try:
        counts = _write(job, out, fmt, smart)
    except (DecodeError, EncodeError) as ex:
        if not smart or options.mode == "smart":
            raise
        # e.g. an open-GOP source whose keyframes are not IDR: the full re-encode still works
        blocker, smart = f"smart render failed ({ex}); re-encoded", False
        counts = _write(job, out, fmt, smart)
    copied, encoded, frames, samples, size, rate = counts
    starts = tuple(itertools.accumulate(job.counts, initial=0))[:-1]
    mode = ("copy" if encoded == 0 else "smart") if smart else "reencode"
    return AssembleResult(str(out), float(frames / rate), frames, mode, encoded, copied, float(rate), size[0],
                          size[1], samples, profile.sample_rate, time.perf_counter() - started,
                          "" if smart else (blocker or "re-encode requested"), starts)


def _write(job: _Job, out: Path, fmt: str, smart: bool) -> tuple[int, int, int, int, tuple[int, int], Fraction]:
    """Run the job into a temporary file, then rename it; remove it on any failure."""
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.part{out.suffix}")
    try:
        counts = job.run(tmp, fmt, smart)
        os.replace(tmp, out)
        return counts
    except MediaError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        if ex.errno in _DISK_FULL:
            raise OutputError(f"disk full while writing {out.name}") from ex
        raise OutputError(f"cannot write {out.name}: {ex}") from ex
    except BaseException as ex:
        tmp.unlink(missing_ok=True)
        if isinstance(ex, av.error.FFmpegError):
            raise EncodeError(f"cannot assemble {out.name}: {ex}") from ex
        raise


class _Job:
    """One assembly run: the output container, its two streams, the clip loop."""

    def __init__(self, edl: EditList, profile: OutputProfile, options: AssembleOptions,
                 facts: dict[str, VideoFacts], progress: ProgressFn | None, cancel: CancelFn) -> None:
        self.edl, self.profile, self.options, self.facts = edl, profile, options, facts
        self.progress, self.cancel = progress, cancel
        first = facts[edl.clips[0].path] if edl.clips[0].path in facts else next(iter(facts.values()))
        self.first = first
        self.rate = Fraction(profile.fps).limit_denominator(1001) if profile.fps else first.out_rate
        self.size = profile.size_for(first.width, first.height)
        self.counts = self._frame_counts()

    def _range(self, clip: EdlClip) -> tuple[int, int]:
        """Source frames of a clip, counted at the file's real rate (the EDL's fps may be rounded)."""
        return frame_range(clip, float(self.facts[clip.path].rate))

    def _frame_counts(self) -> list[int]:
        """Output frames per clip: the source frames at equal rates, else rounded on the cumulative timeline."""
        counts: list[int] = []
        t = Fraction(0)
        for clip in self.edl.clips:
            a, b = self._range(clip)
            rate = self.facts[clip.path].rate
            length = (b - a) / rate / Fraction(clip.speed).limit_denominator(1000)
            if clip.speed == 1.0 and rate == self.rate:
                counts.append(b - a)
            else:
                counts.append(max(1, round((t + length) * self.rate) - round(t * self.rate)))
            t += length
        return counts

    def run(self, tmp: Path, fmt: str, smart: bool) -> tuple[int, int, int, int, tuple[int, int], Fraction]:
        opts = {"movflags": "+faststart"} if self.options.faststart and fmt in ("mp4", "mov") else {}
        with av.open(str(tmp), "w", format=fmt, options=opts) as out:
            audio = None
            if self.options.audio:
                audio = AudioTrack(out, self.profile.sample_rate, self.profile.channels, self.profile.audio_bitrate)
            try:
                if smart:
                    copied, encoded = self._run_smart(out, audio)
                else:
                    copied, encoded = 0, self._run_reencode(out, audio)
            finally:
                if audio is not None:
                    audio.close()
        return copied, encoded, sum(self.counts), audio.total if audio else 0, self.size, self.rate

    def _loop(self, out: av.container.OutputContainer, audio: AudioTrack | None,
              video: Callable[[EdlClip, int, int], None], drain: Callable[[bool], None] | None = None) -> None:
        """Video clip by clip on this thread; the audio of each clip encodes meanwhile on a worker thread."""
        pending: list[Future[list[av.Packet]]] = []
        done = 0
        with ThreadPoolExecutor(1, thread_name_prefix="recap-audio") as pool:
            try:
                for clip, count in zip(self.edl.clips, self.counts, strict=True):
                    self._tick(done)
                    if audio is not None:
                        pending.append(pool.submit(self._audio, audio, clip, done, count))
                    video(clip, done, count)
                    while len(pending) > 1 or (pending and pending[0].done()):
                        out.mux(pending.pop(0).result())
                    done += count
                if drain is not None:
                    drain(True)
                for fut in pending:
                    out.mux(fut.result())
                if audio is not None:
                    out.mux(pool.submit(audio.finish).result())
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
        self._tick(done)

    def _audio(self, audio: AudioTrack, clip: EdlClip, done: int, count: int) -> list[av.Packet]:
        s0 = round(done / self.rate * audio.rate)
        s1 = round((done + count) / self.rate * audio.rate)
        fact = self.facts[clip.path]
        start = fact.start + self._range(clip)[0] / float(fact.rate)
        return audio.add(clip.path, start, s1 - s0, clip.speed)

    def _tick(self, done: int) -> None:
        if self.cancel():
            raise CancelledError("assembly cancelled")
        if self.progress is not None:
            self.progress(min(1.0, done / max(1, sum(self.counts))))

    def _run_smart(self, out: av.container.OutputContainer, audio: AudioTrack | None) -> tuple[int, int]:
        first = self.first
        src0 = SmartSource(first.path, self._edges(), cancel=self.cancel)
        try:
            stream = out.add_stream_from_template(src0.stream)
            stream.time_base = src0.stream.time_base
        finally:
            src0.close()
        assert first.avc is not None
        sink = PacketSink(out, stream, self.rate, first.avc)
        sink.active_headers = 0
        sources: dict[str, SmartSource] = {}
        keys = {p: n for n, p in enumerate([first.path, *(p for p in self.facts if p != first.path)])}
        counts = [0, 0]
        workers = self.options.edge_workers
        if workers is None:
            workers = min(4, (os.cpu_count() or 1) // 4)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="recap-edge") if workers else None

        def video(clip: EdlClip, done: int, count: int) -> None:
            if clip.path not in sources:
                sources[clip.path] = SmartSource(clip.path, self._edges(), keys[clip.path], self.cancel, pool)
            a, b = self._range(clip)
            c, e = sources[clip.path].cut(a, b, sink, done)
            counts[0], counts[1] = counts[0] + c, counts[1] + e
            sink.pump()

        try:
            self._loop(out, audio, video, sink.pump)
        finally:
            sink.cancel()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            for src in sources.values():
                src.close()
        return counts[0], counts[1]

    def _edges(self) -> EdgeEncoding:
        return EdgeEncoding(self.options.edge_preset or self.profile.preset, self.options.edge_crf,
                            self.options.threads)

    def _run_reencode(self, out: av.container.OutputContainer, audio: AudioTrack | None) -> int:
        enc = Reencoder(out, self.profile, self.size, self.rate, self.options.frame_filter, self.cancel,
                        self.options.threads)

        def video(clip: EdlClip, done: int, count: int) -> None:
            fact = self.facts[clip.path]
            # constant rate: the clip's first frame exactly; variable rate: the EDL's time
            t_in = self._range(clip)[0] / fact.rate if fact.constant_rate else Fraction(clip.src_in)
            enc.add_clip(clip.path, t_in, count, clip.speed)

        try:
            self._loop(out, audio, video)
            enc.finish()
        finally:
            enc.close()
        return enc.frames
