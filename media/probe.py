"""Probe and validate a media file with PyAV: container, streams, timing, rotation.

    from media.probe import probe
    info = probe("movie.mp4", require_video=True)
    print(info.duration, info.video.fps, info.video.display_width, info.has_audio)

The file name is never trusted: the content decides what the file is. Validation
errors carry the stable codes of :mod:`media.errors` (``EMPTY_FILE``,
``NOT_MEDIA``, ``CORRUPT_MEDIA``, ``UNSUPPORTED_MEDIA``, ``NO_VIDEO_STREAM``,
``ZERO_DURATION``, ``BAD_DIMENSIONS``) plus ``FILE_NOT_FOUND`` defined here.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from media._video_probe import (
    AudioInfo,
    ProbeFacts,
    SubtitleInfo,
    VideoInfo,
    read_video_facts,
    sniff_container,
)
from media.errors import (
    CorruptMediaError,
    DimensionsError,
    EmptyFileError,
    InputError,
    NotMediaError,
    NoVideoStreamError,
    UnsupportedMediaError,
    ZeroDurationError,
)
from media.types import JSON

__all__ = ["AudioInfo", "MediaInfo", "MissingFileError", "SubtitleInfo", "VideoInfo", "probe"]

#: Longest accepted side in pixels (8K DCI); larger headers are refused as absurd.
MAX_DIMENSION = 8192
#: Largest accepted picture (8192 x 4320).
MAX_PIXELS = 8192 * 4320
_TEXT_FORMATS = frozenset({"tty", "srt", "webvtt", "ass", "subviewer", "microdvd", "jacosub", "lrc", "sami"})
_IMAGE_HINTS = ("_pipe", "image2")


class MissingFileError(InputError):
    code = "FILE_NOT_FOUND"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a media file holds. ``video``/``audio`` are the first usable streams of each kind."""

    path: str
    format_name: str
    size_bytes: int
    duration: float
    start_time: float
    bit_rate: int | None
    video: VideoInfo | None
    audio: AudioInfo | None
    audio_streams: tuple[AudioInfo, ...] = ()
    subtitles: tuple[SubtitleInfo, ...] = ()

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    def to_json(self) -> JSON:
        out = asdict(self)
        out["has_video"], out["has_audio"] = self.has_video, self.has_audio
        return out

    @classmethod
    def from_json(cls, data: JSON) -> MediaInfo:
        video, audio = data.get("video"), data.get("audio")
        return cls(
            path=str(data["path"]), format_name=str(data["format_name"]), size_bytes=int(data["size_bytes"]),
            duration=float(data["duration"]), start_time=float(data.get("start_time", 0.0)),
            bit_rate=None if data.get("bit_rate") is None else int(data["bit_rate"]),
            video=None if video is None else VideoInfo.from_json(video),
            audio=None if audio is None else AudioInfo.from_json(audio),
            audio_streams=tuple(AudioInfo.from_json(a) for a in data.get("audio_streams", [])),
            subtitles=tuple(SubtitleInfo.from_json(s) for s in data.get("subtitles", [])),
        )


def probe(path: str | os.PathLike[str], *, require_video: bool = False, check_decode: bool = True) -> MediaInfo:
    """Open ``path``, describe its streams and refuse what the pipeline cannot use.

    Args:
        path: the file; its name and extension are ignored.
        require_video: raise :class:`NoVideoStreamError` when there is no video stream.
        check_decode: decode the first video frame (proves the codec works, reads the rotation).

    Returns:
        The :class:`MediaInfo`.

    Raises:
        MissingFileError, EmptyFileError, NotMediaError, CorruptMediaError, UnsupportedMediaError,
        NoVideoStreamError, ZeroDurationError, DimensionsError.
    """
    p = Path(path)
    size = _file_size(p)
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except av.FFmpegError as ex:
        if sniff_container(p) is not None:
            raise CorruptMediaError(f"{p.name}: a {sniff_container(p)} file that cannot be read (truncated?)") from ex
        raise NotMediaError(f"{p.name}: not a recognised audio or video file") from ex
    with container:
        return _describe(container, p, size, require_video=require_video, check_decode=check_decode)


def _file_size(p: Path) -> int:
    try:
        st = p.stat()
    except FileNotFoundError as ex:
        raise MissingFileError(f"{p.name}: no such file") from ex
    except OSError as ex:
        raise InputError(f"{p.name}: cannot read ({ex.strerror})") from ex
    if not p.is_file():
        raise NotMediaError(f"{p.name}: not a regular file")
    if st.st_size == 0:
        raise EmptyFileError(f"{p.name}: the file is empty")
    return st.st_size


def _describe(container: Any, p: Path, size: int, *, require_video: bool, check_decode: bool) -> MediaInfo:
    fmt = str(container.format.name)
    if fmt in _TEXT_FORMATS:
        raise NotMediaError(f"{p.name}: a text file ({fmt}), not audio or video")
    vstreams = [s for s in container.streams.video if not _is_attached_picture(s)]
    astreams = list(container.streams.audio)
    if not vstreams and not astreams:
        if sniff_container(p) is not None:  # a real container holding no playable frame
            raise ZeroDurationError(f"{p.name}: the file holds no audio or video frames")
        raise NotMediaError(f"{p.name}: no audio or video stream")
    if require_video and not vstreams:
        raise NoVideoStreamError(f"{p.name}: no video stream (audio only)")
    if any(fmt.endswith(h) or fmt == h for h in _IMAGE_HINTS):
        raise ZeroDurationError(f"{p.name}: a still image ({fmt}), not a video")
    if vstreams and vstreams[0].codec_context is None:
        raise UnsupportedMediaError(f"{p.name}: no decoder for the video stream #{vstreams[0].index}")
    playable = [s for s in astreams if s.codec_context is not None]
    if astreams and not playable and not vstreams:
        raise UnsupportedMediaError(f"{p.name}: no decoder for the audio stream #{astreams[0].index}")
    video = None
    if vstreams:
        _check_dimensions(p, vstreams[0].codec_context.width, vstreams[0].codec_context.height)
        facts = read_video_facts(container, vstreams[0], decode_first=check_decode)
        _check_facts(p, facts)
        duration = _duration(container, vstreams[0], facts.last_time)
        video = VideoInfo.from_stream(vstreams[0], facts, duration)
    else:
        duration = _duration(container, astreams[0], None)
    if duration <= 0:
        raise ZeroDurationError(f"{p.name}: duration is zero")
    audios = tuple(AudioInfo.from_stream(s) for s in astreams)
    subs = tuple(SubtitleInfo.from_stream(s) for s in container.streams.subtitles)
    start = 0.0 if container.start_time is None else container.start_time / av.time_base
    return MediaInfo(path=str(p), format_name=fmt, size_bytes=size, duration=duration, start_time=start,
                     bit_rate=container.bit_rate or None, video=video,
                     audio=next((a for a in audios if a.codec is not None), None),
                     audio_streams=audios, subtitles=subs)


def _is_attached_picture(stream: Any) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _check_dimensions(p: Path, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise DimensionsError(f"{p.name}: video has no picture size ({width}x{height})")
    if max(width, height) > MAX_DIMENSION or width * height > MAX_PIXELS:
        raise DimensionsError(f"{p.name}: {width}x{height} is larger than {MAX_DIMENSION} pixels a side")


def _check_facts(p: Path, facts: ProbeFacts) -> None:
    if facts.packets == 0:
        raise ZeroDurationError(f"{p.name}: the video stream holds no frames")
    if facts.decode_error is not None:
        raise CorruptMediaError(f"{p.name}: the first video frame cannot be decoded ({facts.decode_error})")


def _duration(container: Any, stream: Any, last_time: float | None) -> float:
    if container.duration is not None and container.duration > 0:
        return float(container.duration / av.time_base)
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * Fraction(stream.time_base))
    return 0.0 if last_time is None else last_time
