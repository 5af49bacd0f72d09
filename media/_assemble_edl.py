"""Footage picking for :func:`media.edl.build_edl`: fill each beat's slot from the aligner's clips.

Private. Works in source frame indices; footage already placed is never used again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from media.types import BeatAlignment, Clip

if TYPE_CHECKING:
    from media.edl import NarrationSpan, SourceInfo

_EPS = 1e-6


class Footage:
    """Tracks which frames of each source are already on the timeline (footage is never reused)."""

    def __init__(self, sources: Mapping[str, SourceInfo]) -> None:
        self.sources = sources
        self.used: dict[str, list[tuple[int, int]]] = {sid: [] for sid in sources}

    def frames(self, sid: str) -> int:
        info = self.sources[sid]
        return max(0, math.floor(info.duration * info.fps + _EPS))

    def free_run(self, sid: str, start: int, end: int) -> tuple[int, int]:
        """The first unused run of frames within ``[start, end)``."""
        start, end = max(0, start), min(end, self.frames(sid))
        for a, b in sorted(self.used[sid]):
            if b <= start or a >= end:
                continue
            if a <= start:
                start = b
            else:
                return start, min(end, a)
        return start, max(start, end)

    def take(self, sid: str, start: int, end: int) -> None:
        if end > start:
            self.used[sid].append((start, end))


def _nframes(seconds: float, fps: float) -> int:
    """Frames covering ``seconds`` (at least one; halves round down so slots never overshoot)."""
    return max(1, math.ceil(seconds * fps - 0.5 - _EPS))


def slot_target(beat: BeatAlignment, beat_durations: Mapping[int, float] | None,
                 narration: Mapping[int, NarrationSpan] | None) -> float:
    if beat_durations is not None and beat.index in beat_durations:
        return float(beat_durations[beat.index])
    if narration is not None and beat.index in narration:
        return narration[beat.index].duration
    if beat.target_duration > 0:
        return beat.target_duration
    return sum(c.duration for c in beat.clips)


def fill_beat(beat: BeatAlignment, target: float, footage: Footage) -> list[tuple[str, int, int]]:
    """Pick unused frame runs for one beat, in the aligner's order, until ``target`` seconds are covered."""
    runs: list[tuple[str, int, int]] = []
    have = 0.0
    short = target - 0.5 / max(s.fps for s in footage.sources.values()) - _EPS
    for clip in beat.clips:
        if have >= short:
            break
        run = _take_clip(clip, target - have, footage)
        if run is not None:
            runs.append(run)
            have += (run[2] - run[1]) / footage.sources[run[0]].fps
    if have < short and runs:
        have += _extend_last(runs, target - have, footage)
    if have < short:
        _extend_before(runs, beat, target - have, footage)
    return runs


def _take_clip(clip: Clip, need: float, footage: Footage) -> tuple[str, int, int] | None:
    fps = footage.sources[clip.source].fps
    first, end = round(clip.start * fps), round(clip.end * fps)
    a, b = footage.free_run(clip.source, first, end)
    b = min(b, a + _nframes(need, fps))
    if b <= a:
        return None
    footage.take(clip.source, a, b)
    return clip.source, a, b


def _extend_last(runs: list[tuple[str, int, int]], need: float, footage: Footage) -> float:
    """Grow the last run forward through unused source frames; returns the seconds added."""
    sid, a, b = runs[-1]
    fps = footage.sources[sid].fps
    _, nb = footage.free_run(sid, b, b + _nframes(need, fps))
    if nb <= b:
        return 0.0
    footage.take(sid, b, nb)
    runs[-1] = (sid, a, nb)
    return (nb - b) / fps


def _extend_before(runs: list[tuple[str, int, int]], beat: BeatAlignment, need: float, footage: Footage) -> None:
    """Grow the first run backwards (the moments just before the aligner's pick) when forward is exhausted."""
    if runs:
        sid, a, b = runs[0]
    elif beat.clips:
        sid = beat.clips[0].source
        a = b = round(beat.clips[0].start * footage.sources[sid].fps)
    else:
        return
    fps = footage.sources[sid].fps
    want = _nframes(need, fps)
    na = a
    while na > 0 and a - na < want and not any(x <= na - 1 < y for x, y in footage.used[sid]):
        na -= 1
    if na < a:
        footage.take(sid, na, a)
        if runs:
            runs[0] = (sid, na, b)
        else:
            runs.append((sid, na, a))
