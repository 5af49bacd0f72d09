"""Stream descriptions and the packet/first-frame facts behind :func:`media.probe.probe` (private)."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from statistics import median
from typing import Any

import av

from media.types import JSON

#: Video packets read to judge the frame rate (cheap: demux only, no decode).
PTS_SAMPLE = 600
#: Packets fed to the decoder at most before giving up on a first frame.
DECODE_TRIES = 64
#: Trailing sorted timestamps ignored in a cut-short sample (decoder reorder depth is at most 16).
REORDER_WINDOW = 16


def _frac(value: Any) -> str | None:
    return None if value is None else f"{Fraction(value).numerator}/{Fraction(value).denominator}"


def _language(stream: Any) -> str | None:
    lang = getattr(stream, "language", None) or stream.metadata.get("language")
    return None if not lang or lang == "und" else str(lang)


def _stream_duration(stream: Any) -> float:
    """The stream's own duration: header field, else Matroska's DURATION tag, else 0."""
    if stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if tag and ":" in str(tag):
        h, m, sec = str(tag).split(":")
        try:
            return int(h) * 3600 + int(m) * 60 + float(sec)
        except ValueError:
            return 0.0
    return 0.0


@dataclass(frozen=True, slots=True)
class ProbeFacts:
    """What reading the first packets of a video stream told us."""

    packets: int
    rotation: int
    vfr: bool
    decode_error: str | None
    first_time: float | None
    last_time: float | None


@dataclass(frozen=True, slots=True)
class VideoInfo:
    index: int
    codec: str
    profile: str | None
    width: int
    height: int
    display_width: int
    display_height: int
    rotation: int
    pix_fmt: str | None
    fps: float
    duration: float
    r_frame_rate: str | None
    time_base: str | None
    vfr: bool
    frame_count: int
    frame_count_exact: bool
    bit_rate: int | None
    language: str | None

    @classmethod
    def from_stream(cls, stream: Any, facts: ProbeFacts, duration: float) -> VideoInfo:
        cc = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        exact = bool(stream.frames and stream.frames > 0)
        own = _stream_duration(stream) or duration
        count = int(stream.frames) if exact else round(own * fps)
        swap = facts.rotation in (90, 270)
        return cls(
            index=stream.index, codec=cc.name, profile=stream.profile, width=cc.width, height=cc.height,
            display_width=cc.height if swap else cc.width, display_height=cc.width if swap else cc.height,
            rotation=facts.rotation, pix_fmt=cc.pix_fmt, fps=fps, duration=own, r_frame_rate=_frac(stream.base_rate),
            time_base=_frac(stream.time_base), vfr=facts.vfr, frame_count=count, frame_count_exact=exact,
            bit_rate=cc.bit_rate or stream.bit_rate or None, language=_language(stream),
        )

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> VideoInfo:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AudioInfo:
    index: int
    codec: str | None
    sample_rate: int
    channels: int
    channel_layout: str | None
    language: str | None
    bit_rate: int | None

    @classmethod
    def from_stream(cls, stream: Any) -> AudioInfo:
        cc = stream.codec_context
        if cc is None:
            return cls(stream.index, None, 0, 0, None, _language(stream), None)
        return cls(index=stream.index, codec=cc.name, sample_rate=int(cc.sample_rate or 0),
                   channels=int(cc.channels or 0), channel_layout=cc.layout.name if cc.layout else None,
                   language=_language(stream), bit_rate=cc.bit_rate or None)

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> AudioInfo:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SubtitleInfo:
    index: int
    codec: str | None
    language: str | None

    @classmethod
    def from_stream(cls, stream: Any) -> SubtitleInfo:
        cc = stream.codec_context
        return cls(stream.index, None if cc is None else cc.name, _language(stream))

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> SubtitleInfo:
        return cls(int(data["index"]), data.get("codec"), data.get("language"))


def read_video_facts(container: Any, stream: Any, *, decode_first: bool) -> ProbeFacts:
    """Demux the first packets of ``stream``: timestamps for VFR, the first frame for rotation."""
    pts: list[int] = []
    packets, tries = 0, 0
    frame, error = None, None
    want_frame = decode_first
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            if packet.pts is not None:
                pts.append(int(packet.pts))
            if want_frame and frame is None and error is None and tries < DECODE_TRIES:
                tries += 1
                frame, error = _decode_one(stream, packet)
            if packets >= PTS_SAMPLE and (frame is not None or error is not None or tries >= DECODE_TRIES):
                break
    except av.FFmpegError as ex:
        error = error or f"demux failed: {ex}"
    if want_frame and frame is None and error is None and packets:
        frame, error = _decode_one(stream, None)
        if frame is None and error is None:
            error = "no frame could be decoded"
    rotation = 0 if frame is None else (-round(frame.rotation / 90.0) * 90) % 360
    tb = Fraction(stream.time_base) if stream.time_base else Fraction(0)
    times = sorted(pts)
    # A sample cut short misses the last reordered (B-frame) timestamps: judge only its settled part.
    settled = times[:-REORDER_WINDOW] if packets >= PTS_SAMPLE else times
    return ProbeFacts(packets=packets, rotation=int(rotation), vfr=_is_vfr(settled), decode_error=error,
                      first_time=float(times[0] * tb) if times else None,
                      last_time=float(times[-1] * tb) if times else None)


def _decode_one(stream: Any, packet: Any) -> tuple[Any, str | None]:
    try:
        frames = stream.decode(packet)
    except av.FFmpegError as ex:
        return None, str(ex)
    return (frames[0] if frames else None), None


def _is_vfr(sorted_pts: list[int]) -> bool:
    """True when at least two frame intervals differ from the typical one by over 20 %."""
    deltas = [b - a for a, b in itertools.pairwise(sorted_pts) if b > a]
    if len(deltas) < 3:
        return False
    typical = median(deltas)
    tolerance = max(1.5, 0.2 * typical)
    return sum(1 for d in deltas if abs(d - typical) > tolerance) >= 2


_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/QuickTime"), (4, b"moov", "MP4/QuickTime"), (4, b"mdat", "MP4/QuickTime"),
    (4, b"free", "MP4/QuickTime"), (4, b"wide", "MP4/QuickTime"), (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"RIFF", "RIFF (AVI/WAV)"), (0, b"OggS", "Ogg"), (0, b"fLaC", "FLAC"), (0, b"ID3", "MP3"),
    (0, b"FLV", "FLV"), (0, b"\x00\x00\x01\xba", "MPEG-PS"), (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
)


def sniff_container(path: Path) -> str | None:
    """Name the container family from the first bytes, or None when no media signature is found."""
    with path.open("rb") as fh:
        head = fh.read(400)
    for offset, magic, name in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return name
    if len(head) > 376 and head[0] == head[188] == 0x47:
        return "MPEG-TS"
    return None
