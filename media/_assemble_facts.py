"""Facts about the sources and the output that :mod:`media.assemble` checks before it starts.

Private: probing each source's video stream, the checks that choose between the smart
and the re-encode path, clip ranges against the real files, and the output path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

from media.edl import EditList, TimeRangeError
from media.errors import DecodeError, OutputError
from media.profiles import OutputProfile
from media.smartcut import AvcConfig, smart_profile_ok

FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


@dataclass(frozen=True, slots=True)
class VideoFacts:
    path: str
    codec: str
    width: int
    height: int
    pix_fmt: str | None
    rate: Fraction
    avc: AvcConfig | None
    start: float
    duration: float
    constant_rate: bool
    #: The rate to render this source at: its own rate, or for variable rates the base (highest) rate.
    out_rate: Fraction


def probe_video(path: str) -> VideoFacts:
    try:
        with av.open(path) as cont:
            if not cont.streams.video:
                raise DecodeError(f"{os.path.basename(path)} has no video stream")
            vs = cont.streams.video[0]
            rate = vs.average_rate or vs.guessed_rate
            if not rate or not vs.codec_context.width:
                raise DecodeError(f"{os.path.basename(path)}: unknown frame rate or size")
            start = float((vs.start_time or 0) * (vs.time_base or 0))
            if vs.duration is not None and vs.time_base is not None:
                duration = float(vs.duration * vs.time_base)
            else:
                duration = (cont.duration or 0) / av.time_base - start
            cc = vs.codec_context
            guessed = vs.guessed_rate or rate
            constant = abs(float(rate) - float(guessed)) <= 0.01 * float(guessed)
            out_rate = Fraction(rate) if constant else Fraction(guessed)
            return VideoFacts(path, cc.name, cc.width, cc.height, cc.pix_fmt, Fraction(rate),
                               AvcConfig.parse(cc.extradata), start, duration, constant, out_rate)
    except av.error.FFmpegError as ex:
        raise DecodeError(f"cannot open source {os.path.basename(path)}: {ex}") from ex


def smart_blocker(facts: list[VideoFacts], edl: EditList, profile: OutputProfile, filtered: bool) -> str | None:
    """Why the smart path cannot be used (None: it can)."""
    if filtered:
        return "pixels change (frame filter)"
    if any(c.speed != 1.0 for c in edl.clips):
        return "a clip changes speed"
    first = facts[0]
    for f in facts:
        if f.codec != "h264":
            return f"{os.path.basename(f.path)} is {f.codec}, not H.264"
        reason = smart_profile_ok(f.avc, f.pix_fmt)
        if reason:
            return f"{os.path.basename(f.path)}: {reason}"
        if not f.constant_rate:
            return f"{os.path.basename(f.path)} has a variable frame rate"
        if (f.width, f.height, f.rate, f.pix_fmt) != (first.width, first.height, first.rate, first.pix_fmt):
            return "sources differ in size, frame rate or pixel format"
    if not profile.is_source and (profile.size_for(first.width, first.height) != (first.width, first.height)
                                  or (profile.fps and Fraction(profile.fps) != first.rate)):
        return f"profile {profile.name} needs scaling or a new frame rate"
    return None


def check_ranges(edl: EditList, facts: dict[str, VideoFacts]) -> None:
    """Clip ends against the real files (the EDL's own durations may be stale)."""
    for i, clip in enumerate(edl.clips):
        fact = facts[clip.path]
        if fact.duration > 0 and clip.src_out > fact.duration + 0.5 / float(fact.rate):
            raise TimeRangeError(f"clip {i}: ends at {clip.src_out:.3f} s, past the end of "
                                 f"{os.path.basename(clip.path)} ({fact.duration:.3f} s)")


def check_output(out: Path) -> None:
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise OutputError(f"output path {out.name} is a folder")
    if not parent.is_dir():
        raise OutputError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {parent} is not writable")
    if out.suffix.lower() not in FORMATS:
        raise OutputError(f"output must end in one of {sorted(FORMATS)}")
