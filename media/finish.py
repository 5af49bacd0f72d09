"""Finishing: intro and outro (user clips or a generated title card), crossfades, burned-in captions, and the
final mux of the video with the mixed audio (AAC).

When nothing changes pixels (no intro, outro, title or burn-in) the program's video packets are copied
untouched and only the audio is encoded; otherwise the whole video is re-encoded at the program's size
and frame rate (H.264, the profile's preset and CRF)::

    result = finish(Path("cut.mp4"), Path("mix.wav"), Path("recap.mp4"), FinishOptions(title="Sintel"))
    print(result.copied_video, result.program_offset, result.duration)
    srt_cues = shift_cues(cues, result.program_offset)

Written under a temporary name and renamed; errors: DecodeError, EncodeError, OutputError (OUTPUT_FAILED).
"""

from __future__ import annotations

import errno
import uuid
import wave
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from media.audio import iter_audio
from media.captions import Cue, cue_at, draw_caption
from media.errors import CancelledError, DecodeError, EncodeError, MediaError, NoAudioStreamError, OutputError
from media.profiles import get_profile
from media.thumbnails import fit_16x9
from media.titlecard import title_frames
from media.types import JSON, CancelFn, ProgressFn, never_cancel

__all__ = ["FinishOptions", "FinishResult", "finish", "shift_cues"]

_RATE = 48000
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@dataclass(frozen=True, slots=True)
class FinishOptions:
    """``intro``/``outro``: user clips; ``title``: a generated title card when there is no intro clip."""

    intro: Path | None = None
    outro: Path | None = None
    title: str | None = None
    title_seconds: float = 3.0
    crossfade: float = 0.0
    cues: tuple[Cue, ...] | None = None
    profile: str = "720p"
    audio_bitrate: int = 160_000

    def __post_init__(self) -> None:
        if not 0.0 <= self.crossfade <= 2.0:
            raise ValueError("crossfade must be in [0, 2] s")
        if not 0.5 <= self.title_seconds <= 30:
            raise ValueError("title_seconds must be in [0.5, 30]")
        get_profile(self.profile)

    @property
    def changes_pixels(self) -> bool:
        return bool(self.intro or self.outro or self.title or self.cues)


@dataclass(frozen=True, slots=True)
class FinishResult:
    path: Path
    duration: float
    frames: int
    fps: float
    width: int
    height: int
    copied_video: bool
    program_offset: float  # where the program starts on the final timeline (the intro minus the crossfade)

    def to_json(self) -> JSON:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def shift_cues(cues: Sequence[Cue], offset: float) -> tuple[Cue, ...]:
    """Cues moved by ``offset`` seconds (program timeline -> final timeline)."""
    return tuple(replace(c, start=round(c.start + offset, 3), end=round(c.end + offset, 3)) for c in cues)


@dataclass(frozen=True, slots=True)
class _Facts:
    width: int
    height: int
    rate: Fraction
    frames: int


def _facts(path: Path) -> _Facts:
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise DecodeError(f"{path.name} has no video stream", code="NO_VIDEO_STREAM")
            s = c.streams.video[0]
            rate = Fraction(s.average_rate or s.guessed_rate or 25)
            frames = s.frames or round(float((s.duration or 0) * (s.time_base or 0) or (c.duration or 0) / 1e6)
                                       * rate)
            return _Facts(s.codec_context.width, s.codec_context.height, rate, int(frames))
    except (av.FFmpegError, OSError) as ex:
        raise DecodeError(f"cannot open {path.name}") from ex


def _decode(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    try:
        with av.open(str(path)) as c:
            for frame in c.decode(c.streams.video[0]):
                yield float(frame.time or 0.0), frame.to_ndarray(format="bgr24")
    except (av.FFmpegError, OSError) as ex:
        raise DecodeError(f"cannot decode {path.name}") from ex


def _conform(path: Path, size: tuple[int, int], rate: Fraction, count: int) -> Iterator[np.ndarray]:
    """Exactly ``count`` frames at ``rate`` and ``size`` (letterboxed): frame j shows the source at j / rate."""
    last: np.ndarray | None = None
    j = 0
    first_time: float | None = None
    for t, img in _decode(path):
        first_time = t if first_time is None else first_time
        while j < count and last is not None and j / rate < t - first_time - 1e-6:
            yield last
            j += 1
        last = img if img.shape[1::-1] == size else fit_16x9(img, size, max_crop=0.0)
    while j < count and last is not None:
        yield last
        j += 1


def _crossfade_frames(parts: Sequence[Iterator[np.ndarray]], n: int) -> Iterator[np.ndarray]:
    """Concatenate frame streams, blending the last ``n`` frames of each with the first ``n`` of the next."""
    tail: list[np.ndarray] = []
    for part in parts:
        for k, old in enumerate(tail):
            new = next(part, None)
            if new is None:
                yield old
                continue
            alpha = (k + 1) / (len(tail) + 1)
            yield cv2.addWeighted(old, 1 - alpha, new, alpha, 0)
        buf: deque[np.ndarray] = deque()
        for frame in part:
            buf.append(frame)
            if len(buf) > n:
                yield buf.popleft()
        tail = list(buf)
    yield from tail


def _wav_chunks(path: Path) -> Iterator[np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        if wav.getframerate() != _RATE or wav.getnchannels() != 2 or wav.getsampwidth() != 2:
            yield from iter_audio(path, _RATE, 2)
            return
        while chunk := wav.readframes(_RATE):
            yield np.frombuffer(chunk, "<i2").reshape(-1, 2).astype(np.float32) / 32767.0


def _fit_samples(chunks: Iterator[np.ndarray], total: int) -> Iterator[np.ndarray]:
    """Exactly ``total`` samples: trimmed, or padded with silence."""
    done = 0
    for chunk in chunks:
        take = chunk[:max(0, total - done)]
        if len(take):
            yield take
            done += len(take)
    while done < total:
        n = min(_RATE, total - done)
        yield np.zeros((n, 2), np.float32)
        done += n


def _clip_audio(path: Path | None, seconds: float) -> Iterator[np.ndarray]:
    total = round(seconds * _RATE)
    if path is None:
        return _fit_samples(iter(()), total)
    try:
        return _fit_samples(iter(list(iter_audio(path, _RATE, 2))), total)
    except NoAudioStreamError:
        return _fit_samples(iter(()), total)


def _crossfade_audio(parts: Sequence[Iterator[np.ndarray]], n: int) -> Iterator[np.ndarray]:
    """Concatenate sample streams with an ``n``-sample linear crossfade at each join."""
    tail = np.zeros((0, 2), np.float32)
    for part in parts:
        pending = np.zeros((0, 2), np.float32)
        for chunk in part:
            pending = np.concatenate([pending, chunk])
            if len(tail) and len(pending) >= len(tail):
                ramp = np.linspace(0, 1, len(tail) + 2, dtype=np.float32)[1:-1, None]
                yield tail * (1 - ramp) + pending[:len(tail)] * ramp
                pending, tail = pending[len(tail):], tail[:0]
            if not len(tail) and len(pending) > n:
                yield pending[:len(pending) - n]
                pending = pending[len(pending) - n:]
        if len(tail):
            yield tail  # the part was shorter than the fade
        tail = pending
    yield tail


class _Writer:
    """The output container: H.264 (or copied) video and AAC audio, interleaved by time."""

    def __init__(self, path: Path, audio: Iterator[np.ndarray], bitrate: int) -> None:
        self.out: Any = av.open(str(path), "w", options={"movflags": "+faststart"})
        self.astream = self.out.add_stream("aac", rate=_RATE, layout="stereo")
        self.astream.bit_rate = bitrate
        self.audio, self.apts, self.pending = audio, 0, np.zeros((0, 2), np.float32)

    def audio_until(self, seconds: float | None) -> None:
        """Encode audio up to ``seconds`` (all of it when None)."""
        want = None if seconds is None else round(seconds * _RATE)
        while want is None or self.apts < want:
            if len(self.pending) < 1024:
                chunk = next(self.audio, None)
                if chunk is None:
                    break
                self.pending = np.concatenate([self.pending, chunk])
                continue
            self._encode(self.pending[:1024])
            self.pending = self.pending[1024:]
        if want is None:
            if len(self.pending):
                self._encode(self.pending)
            self.out.mux(self.astream.encode(None))

    def _encode(self, block: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block.T), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = _RATE, self.apts
        self.apts += len(block)
        self.out.mux(self.astream.encode(frame))


def _copy_video(program: Path, writer: _Writer, cancel: CancelFn) -> int:
    """Copy the program's video packets, interleaving the audio; returns the frame count."""
    frames = 0
    with av.open(str(program)) as src:
        vin = src.streams.video[0]
        vout = writer.out.add_stream_from_template(vin)
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            if cancel():
                raise CancelledError("finishing cancelled")
            if packet.pts is not None and vin.time_base is not None:
                writer.audio_until(float(packet.pts * vin.time_base))
            packet.stream = vout
            writer.out.mux(packet)
            frames += 1
    writer.audio_until(None)
    return frames


def _encode_video(frames: Iterator[np.ndarray], total: int, writer: _Writer, facts: _Facts, options: FinishOptions,
                  cues: Sequence[Cue], progress: ProgressFn | None, cancel: CancelFn) -> int:
    profile = get_profile(options.profile)
    v = writer.out.add_stream("libx264", rate=facts.rate, options={"preset": profile.preset, "crf": str(profile.crf)})
    v.width, v.height, v.pix_fmt = facts.width, facts.height, "yuv420p"
    v.codec_context.gop_size = max(1, round(profile.gop_seconds * float(facts.rate)))
    count = 0
    for img in frames:
        if cancel():
            raise CancelledError("finishing cancelled")
        t = float(count / facts.rate)
        writer.audio_until(t)
        frame = av.VideoFrame.from_ndarray(draw_caption(img, cue_at(cues, t)) if cues else img, format="bgr24")
        frame.pts, frame.time_base = count, 1 / facts.rate
        writer.out.mux(v.encode(frame))
        count += 1
        if progress and count % 50 == 0:
            progress(min(1.0, count / max(total, 1)))
    writer.out.mux(v.encode(None))
    writer.audio_until(None)
    return count


def _part(clip: Path | None, title: str | None, facts: _Facts, options: FinishOptions
          ) -> tuple[Iterator[np.ndarray], Iterator[np.ndarray], int] | None:
    """(frames, audio, frame count) of an intro/outro: the user's clip, else a title card, else nothing."""
    size = (facts.width, facts.height)
    if clip is not None:
        own = _facts(clip)
        n = max(1, round(own.frames / own.rate * facts.rate))
        return _conform(clip, size, facts.rate, n), _clip_audio(clip, float(n / facts.rate)), n
    if title:
        frames = list(title_frames(title, size, float(facts.rate), options.title_seconds))
        return iter(frames), _clip_audio(None, float(len(frames) / facts.rate)), len(frames)
    return None


def finish(program: Path, mix_wav: Path | None, out_path: Path, options: FinishOptions | None = None, *,
           progress: ProgressFn | None = None, cancel: CancelFn = never_cancel) -> FinishResult:
    """Write the final video: [intro] + program + [outro] with the mixed audio.

    Args:
        program: the assembled cut (its video is used; its audio is replaced by ``mix_wav``).
        mix_wav: the program's mixed audio (None keeps silence).
        out_path: the final file (.mp4/.mov/.mkv), written atomically.
        options: intro/outro/title/crossfade; ``cues`` (program timeline) are burned in.
    """
    opts = options or FinishOptions()
    facts = _facts(program)
    if facts.width % 2 or facts.height % 2:
        raise EncodeError(f"{program.name} has an odd frame size {facts.width}x{facts.height}")
    intro = _part(opts.intro, opts.title, facts, opts)
    outro = _part(opts.outro, None, facts, opts)
    n_fade = round(opts.crossfade * float(facts.rate))
    fade_s = n_fade / float(facts.rate)
    offset = intro[2] / float(facts.rate) - fade_s if intro else 0.0
    mixed = _wav_chunks(mix_wav) if mix_wav else iter(())
    program_audio = _fit_samples(mixed, round(facts.frames / facts.rate * _RATE))
    parts = [p for p in (intro, (_program(program, facts), program_audio, facts.frames), outro) if p is not None]
    audio = _crossfade_audio([p[1] for p in parts], round(fade_s * _RATE))
    tmp = out_path.with_name(f".{out_path.stem}.{uuid.uuid4().hex[:8]}.part{out_path.suffix}")
    try:
        writer = _Writer(tmp, audio, opts.audio_bitrate)
        with writer.out:
            if opts.changes_pixels:
                total = sum(p[2] for p in parts) - n_fade * (len(parts) - 1)
                count = _encode_video(_crossfade_frames([p[0] for p in parts], n_fade), total, writer, facts, opts,
                                      shift_cues(opts.cues or (), offset), progress, cancel)
            else:
                count = _copy_video(program, writer, cancel)
        tmp.replace(out_path)
    except BaseException as ex:
        tmp.unlink(missing_ok=True)
        _raise_clear(ex, out_path)
        raise
    return FinishResult(out_path, count / float(facts.rate), count, float(facts.rate), facts.width, facts.height,
                        not opts.changes_pixels, round(offset, 4))


def _program(program: Path, facts: _Facts) -> Iterator[np.ndarray]:
    return _conform(program, (facts.width, facts.height), facts.rate, facts.frames)


def _raise_clear(ex: BaseException, out: Path) -> None:
    """Turn OS and codec failures into MediaErrors with stable codes (MediaErrors pass through)."""
    if isinstance(ex, MediaError):
        return
    if isinstance(ex, OSError) and not isinstance(ex, av.FFmpegError):
        if ex.errno in _DISK_FULL:
            raise OutputError(f"disk full while writing {out.name}") from ex
        raise OutputError(f"cannot write {out.name}: {ex.strerror or ex}") from ex
    if isinstance(ex, av.FFmpegError):
        if getattr(ex, "errno", None) in _DISK_FULL:
            raise OutputError(f"disk full while writing {out.name}") from ex
        raise EncodeError(f"cannot finish {out.name}: {ex}") from ex
