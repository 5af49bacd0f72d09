"""The edit decision list: which source frames play when, beat by beat (``edl.json``).

Built from the alignment contract plus per-beat narration durations; consumed by
:func:`media.assemble.assemble` and by the finishing steps (mix, captions, export)::

    edl = build_edl(alignment, {"s0": SourceInfo("movie.mp4", 612.3, 24.0)}, beat_durations={0: 6.2})
    validate_edl(edl)
    Path("edl.json").write_text(json.dumps(edl.to_json()))

Times are seconds. Source times are measured from the source's first video frame
and snapped to frame boundaries; a clip ``[src_in, src_out)`` holds exactly the
source frames whose timestamps fall inside it. Errors (codes)::

    EditListError            EDL_INVALID
    ├── EmptyEditListError   EDL_EMPTY
    ├── SourceMissingError   EDL_SOURCE_MISSING
    ├── TimeRangeError       EDL_TIME_RANGE
    ├── ZeroLengthClipError  EDL_ZERO_LENGTH
    └── FootageShortError    EDL_FOOTAGE_SHORT
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from media._assemble_edl import Footage, fill_beat, slot_target
from media.errors import EditListError
from media.types import Alignment, Clip

JSON = dict[str, Any]

EDL_VERSION = 1
#: The fastest a clip may be played (1.25 = 25 % faster than real time).
MAX_SPEED = 1.25
#: The slowest a clip may be played.
MIN_SPEED = 0.5
_EPS = 1e-6


class EmptyEditListError(EditListError):
    code = "EDL_EMPTY"


class SourceMissingError(EditListError):
    code = "EDL_SOURCE_MISSING"


class TimeRangeError(EditListError):
    code = "EDL_TIME_RANGE"


class ZeroLengthClipError(EditListError):
    code = "EDL_ZERO_LENGTH"


class FootageShortError(EditListError):
    code = "EDL_FOOTAGE_SHORT"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What :func:`build_edl` needs to know about one source (from probing it)."""

    path: str
    duration: float
    fps: float


@dataclass(frozen=True, slots=True)
class EdlSource:
    id: str
    path: str
    fps: float
    duration: float

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> EdlSource:
        return cls(str(data["id"]), str(data["path"]), float(data["fps"]), float(data["duration"]))


@dataclass(frozen=True, slots=True)
class EdlClip:
    """One cut: source frames ``[src_in, src_out)`` placed at ``timeline_start``.

    ``speed`` > 1 plays faster (at most 1.25); ``keep_source_audio`` asks the mix to keep
    the scene's own sound at full level ("let the scene play").
    """

    source: str
    path: str
    src_in: float
    src_out: float
    beat: int
    timeline_start: float
    speed: float = 1.0
    keep_source_audio: bool = False

    @property
    def duration(self) -> float:
        """Length on the output timeline."""
        return (self.src_out - self.src_in) / self.speed

    @property
    def timeline_end(self) -> float:
        return self.timeline_start + self.duration

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> EdlClip:
        return cls(str(data["source"]), str(data["path"]), float(data["src_in"]), float(data["src_out"]),
                   int(data["beat"]), float(data["timeline_start"]), float(data.get("speed", 1.0)),
                   bool(data.get("keep_source_audio", False)))


@dataclass(frozen=True, slots=True)
class NarrationSpan:
    """The part ``[start, end)`` of an audio file that narrates one beat."""

    path: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> NarrationSpan:
        return cls(str(data["path"]), float(data["start"]), float(data["end"]))


@dataclass(frozen=True, slots=True)
class BeatSlot:
    """The stretch of the output timeline given to one beat."""

    beat: int
    start: float
    duration: float
    narration: NarrationSpan | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration

    def to_json(self) -> JSON:
        return {"beat": self.beat, "start": self.start, "duration": self.duration,
                "narration": None if self.narration is None else self.narration.to_json()}

    @classmethod
    def from_json(cls, data: JSON) -> BeatSlot:
        nar = data.get("narration")
        return cls(int(data["beat"]), float(data["start"]), float(data["duration"]),
                   None if nar is None else NarrationSpan.from_json(nar))


@dataclass(frozen=True, slots=True)
class EdlOptions:
    """Render options carried in the EDL as plain values."""

    profile: str = "source"
    title: str | None = None
    intro: str | None = None
    outro: str | None = None
    caption_style: str | None = None
    music: str | None = None
    crossfade: float = 0.0
    keep_source_audio_beats: tuple[int, ...] = ()

    def to_json(self) -> JSON:
        data = asdict(self)
        data["keep_source_audio_beats"] = list(self.keep_source_audio_beats)
        return data

    @classmethod
    def from_json(cls, data: JSON) -> EdlOptions:
        def opt(key: str) -> str | None:
            val = data.get(key)
            return None if val is None else str(val)

        return cls(str(data.get("profile", "source")), opt("title"), opt("intro"), opt("outro"),
                   opt("caption_style"), opt("music"), float(data.get("crossfade", 0.0)),
                   tuple(int(b) for b in data.get("keep_source_audio_beats", [])))


@dataclass(frozen=True, slots=True)
class EditList:
    """The whole edit: sources, per-beat slots and the ordered clips (``edl.json``)."""

    sources: tuple[EdlSource, ...]
    slots: tuple[BeatSlot, ...]
    clips: tuple[EdlClip, ...]
    options: EdlOptions = field(default_factory=EdlOptions)
    version: int = EDL_VERSION

    @property
    def profile(self) -> str:
        return self.options.profile

    @property
    def duration(self) -> float:
        return max((c.timeline_end for c in self.clips), default=0.0)

    def source(self, source_id: str) -> EdlSource:
        for src in self.sources:
            if src.id == source_id:
                return src
        raise SourceMissingError(f"source {source_id!r} is not listed in the edit list")

    def to_json(self) -> JSON:
        return {"version": self.version, "profile": self.profile,
                "sources": [s.to_json() for s in self.sources], "slots": [s.to_json() for s in self.slots],
                "clips": [c.to_json() for c in self.clips], "options": self.options.to_json()}

    @classmethod
    def from_json(cls, data: JSON) -> EditList:
        """Read ``edl.json``; raises EditListError (EDL_INVALID) on a malformed document."""
        try:
            version = int(data.get("version", EDL_VERSION))
            if version != EDL_VERSION:
                raise EditListError(f"unsupported edl.json version {version}")
            options = EdlOptions.from_json(dict(data.get("options", {})))
            if "profile" in data:
                options = replace(options, profile=str(data["profile"]))
            return cls(tuple(EdlSource.from_json(s) for s in data.get("sources", [])),
                       tuple(BeatSlot.from_json(s) for s in data.get("slots", [])),
                       tuple(EdlClip.from_json(c) for c in data.get("clips", [])), options, version)
        except (KeyError, TypeError, ValueError, AttributeError) as ex:
            raise EditListError(f"malformed edl.json: {type(ex).__name__} {ex}") from ex


def snap(t: float, fps: float) -> float:
    """Snap a source time to the nearest frame boundary."""
    return round(t * fps) / fps


def frame_range(clip: EdlClip, fps: float) -> tuple[int, int]:
    """The source frame indices ``[first, end)`` that a clip covers."""
    return round(clip.src_in * fps + _EPS), round(clip.src_out * fps + _EPS)


# --------------------------------------------------------------------------- building


def build_edl(alignment: Alignment, sources: Mapping[str, SourceInfo], *,
              beat_durations: Mapping[int, float] | None = None,
              narration: Mapping[int, NarrationSpan] | None = None,
              options: EdlOptions = EdlOptions()) -> EditList:
    """Lay the aligned beats end to end on one timeline.

    Each beat gets a slot as long as its narration (``beat_durations``, else the narration
    span, else the script's target duration). The slot is filled with the beat's clips in
    the aligner's order, cut at frame boundaries; footage already used is skipped (never
    reused). When the clips are too short, the last clip is extended forward through
    unused source frames, then the first one backwards; footage is never sped up.

    Args:
        alignment: the alignment contract.
        sources: probe facts per source id (path, duration, fps).
        beat_durations: seconds of narration per beat index.
        narration: audio span per beat index (its duration is used when no beat duration is given).
        options: profile and finishing options stored in the EDL.

    Returns:
        The edit list, validated.

    Raises:
        SourceMissingError: a clip names a source that ``sources`` lacks.
        FootageShortError: the unused footage cannot cover a beat's narration.
        EmptyEditListError: nothing to play.
    """
    for beat in alignment.beats:
        for clip in beat.clips:
            if clip.source not in sources:
                raise SourceMissingError(f"beat {beat.index} uses unknown source {clip.source!r}")
    footage = Footage(sources)
    slots: list[BeatSlot] = []
    clips: list[EdlClip] = []
    t = 0.0
    keep = set(options.keep_source_audio_beats)
    for beat in alignment.beats:
        target = slot_target(beat, beat_durations, narration)
        if not beat.clips and target > 0:
            # Nothing aligned to this beat: carry on from where the previous clip stopped.
            beat = replace(beat, clips=(_continuation(clips, sources, target),))
        runs = fill_beat(beat, target, footage)
        length = sum((b - a) / sources[sid].fps for sid, a, b in runs)
        if length < target - 0.5 / max(s.fps for s in sources.values()):
            raise FootageShortError(f"beat {beat.index} needs {target:.2f} s of footage but only "
                                    f"{length:.2f} s of unused footage is available around its clips")
        start = t
        for sid, a, b in runs:
            fps = sources[sid].fps
            clips.append(EdlClip(sid, sources[sid].path, a / fps, b / fps, beat.index, t,
                                 keep_source_audio=beat.index in keep))
            t += (b - a) / fps
        nar = None if narration is None else narration.get(beat.index)
        slots.append(BeatSlot(beat.index, start, t - start, nar))
    srcs = tuple(EdlSource(sid, s.path, s.fps, s.duration) for sid, s in sources.items())
    edl = EditList(srcs, tuple(slots), tuple(clips), options)
    validate_edl(edl, check_files=False)
    return edl


def _continuation(clips: list[EdlClip], sources: Mapping[str, SourceInfo], target: float) -> Clip:
    if clips:
        last = clips[-1]
        return Clip(last.source, last.src_out, last.src_out + target)
    sid = next(iter(sources))
    return Clip(sid, 0.0, target)


# --------------------------------------------------------------------------- validation


def validate_edl(edl: EditList, *, check_files: bool = True) -> None:
    """Check an edit list before rendering.

    Raises:
        EmptyEditListError: no clips, or a timeline of zero length.
        SourceMissingError: a clip names an unknown source, or (``check_files``) a source file is absent.
        ZeroLengthClipError: a clip shorter than one frame.
        TimeRangeError: negative times, times past the source's end, or a speed outside [0.5, 1.25].
    """
    if not edl.clips:
        raise EmptyEditListError("the edit list has no clips")
    ids = {s.id for s in edl.sources}
    for src in edl.sources:
        if src.fps <= 0 or src.duration <= 0:
            raise TimeRangeError(f"source {src.id!r} has fps {src.fps} and duration {src.duration}")
        if check_files and not os.path.isfile(src.path):
            raise SourceMissingError(f"source file for {src.id!r} not found: {os.path.basename(src.path)}")
    for i, clip in enumerate(edl.clips):
        if clip.source not in ids:
            raise SourceMissingError(f"clip {i} uses unknown source {clip.source!r}")
        _validate_clip(i, clip, edl.source(clip.source))
    if edl.duration <= 0:
        raise EmptyEditListError("the edit list plays for zero seconds")


def _validate_clip(i: int, clip: EdlClip, src: EdlSource) -> None:
    if clip.path != src.path:
        raise EditListError(f"clip {i}: path differs from the path of source {src.id!r}")
    if not (MIN_SPEED - _EPS <= clip.speed <= MAX_SPEED + _EPS):
        raise TimeRangeError(f"clip {i}: speed {clip.speed} is outside [{MIN_SPEED}, {MAX_SPEED}]")
    if clip.src_in < -_EPS or clip.timeline_start < -_EPS:
        raise TimeRangeError(f"clip {i}: negative time ({clip.src_in:.3f} s)")
    first, end = frame_range(clip, src.fps)
    if end - first < 1:
        raise ZeroLengthClipError(f"clip {i}: [{clip.src_in:.3f}, {clip.src_out:.3f}) holds no frame")
    if clip.src_out > src.duration + 0.5 / src.fps:
        raise TimeRangeError(f"clip {i}: ends at {clip.src_out:.3f} s, past the end of source "
                             f"{src.id!r} ({src.duration:.3f} s)")


def retime(clips: Iterable[EdlClip]) -> tuple[EdlClip, ...]:
    """Place clips end to end from zero, keeping their order (after an editor changed them)."""
    out: list[EdlClip] = []
    t = 0.0
    for clip in clips:
        out.append(replace(clip, timeline_start=t))
        t += clip.duration
    return tuple(out)
