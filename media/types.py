"""Result types shared across the media library.

Frozen dataclasses with ``to_json()``/``from_json()``; times are seconds.

    shots = [Shot(0.0, 2.5, 0, 60)]
    data = [s.to_json() for s in shots]
    assert Shot.from_json(data[0]) == shots[0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

JSON = dict[str, Any]

#: The largest script accepted anywhere (uploads, ``scriptText``, the script stage, the library): 2 MiB of UTF-8.
MAX_SCRIPT_BYTES = 2 * 1024 * 1024

#: Progress callback: receives a fraction in [0, 1].
ProgressFn = Callable[[float], None]


class CancelFn(Protocol):
    """Returns True when the caller wants the work to stop."""

    def __call__(self) -> bool: ...


def never_cancel() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Shot:
    start: float
    end: float
    start_frame: int
    end_frame: int

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> Shot:
        return cls(float(data["start"]), float(data["end"]), int(data["start_frame"]), int(data["end_frame"]))


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> Word:
        return cls(float(data["start"]), float(data["end"]), str(data["text"]), float(data.get("probability", 1.0)))


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def to_json(self) -> JSON:
        return {"start": self.start, "end": self.end, "text": self.text, "words": [w.to_json() for w in self.words]}

    @classmethod
    def from_json(cls, data: JSON) -> Segment:
        words = tuple(Word.from_json(w) for w in data.get("words", []))
        return cls(float(data["start"]), float(data["end"]), str(data["text"]), words)


@dataclass(frozen=True, slots=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...] = ()

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_json(self) -> JSON:
        return {"language": self.language, "duration": self.duration, "segments": [s.to_json() for s in self.segments]}

    @classmethod
    def from_json(cls, data: JSON) -> Transcript:
        segs = tuple(Segment.from_json(s) for s in data.get("segments", []))
        return cls(str(data.get("language", "")), float(data.get("duration", 0.0)), segs)


@dataclass(frozen=True, slots=True)
class Beat:
    """One paragraph of the recap script."""

    index: int
    text: str
    chapter: int | None = None
    target_duration: float = 0.0
    sentences: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        return {"index": self.index, "text": self.text, "chapter": self.chapter,
                "target_duration": self.target_duration, "sentences": list(self.sentences)}

    @classmethod
    def from_json(cls, data: JSON) -> Beat:
        ch = data.get("chapter")
        return cls(int(data["index"]), str(data["text"]), None if ch is None else int(ch),
                   float(data.get("target_duration", 0.0)), tuple(data.get("sentences", [])))


@dataclass(frozen=True, slots=True)
class Chapter:
    index: int
    title: str
    first_beat: int

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> Chapter:
        return cls(int(data["index"]), str(data["title"]), int(data["first_beat"]))


@dataclass(frozen=True, slots=True)
class Script:
    title: str | None
    chapters: tuple[Chapter, ...]
    beats: tuple[Beat, ...]

    def to_json(self) -> JSON:
        return {"title": self.title, "chapters": [c.to_json() for c in self.chapters],
                "beats": [b.to_json() for b in self.beats]}

    @classmethod
    def from_json(cls, data: JSON) -> Script:
        return cls(data.get("title"), tuple(Chapter.from_json(c) for c in data.get("chapters", [])),
                   tuple(Beat.from_json(b) for b in data.get("beats", [])))


@dataclass(frozen=True, slots=True)
class Clip:
    source: str
    start: float
    end: float
    score: float = 0.0

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> JSON:
        return {"source": self.source, "start": round(self.start, 3), "end": round(self.end, 3),
                "score": round(self.score, 4)}

    @classmethod
    def from_json(cls, data: JSON) -> Clip:
        return cls(str(data["source"]), float(data["start"]), float(data["end"]), float(data.get("score", 0.0)))


@dataclass(frozen=True, slots=True)
class AlternativePlacement:
    """Another place in the footage that a beat may tell (for a reviewer to pick instead)."""

    clips: tuple[Clip, ...]
    score: float

    def to_json(self) -> JSON:
        return {"clips": [c.to_json() for c in self.clips], "score": round(self.score, 4)}

    @classmethod
    def from_json(cls, data: JSON) -> AlternativePlacement:
        return cls(tuple(Clip.from_json(c) for c in data.get("clips", [])), float(data.get("score", 0.0)))


@dataclass(frozen=True, slots=True)
class BeatAlignment:
    index: int
    text: str
    target_duration: float
    confidence: float
    clips: tuple[Clip, ...] = ()
    #: other placements, best first (version 1 addition; absent in older files).
    alternatives: tuple[AlternativePlacement, ...] = ()
    #: confidence below the aligner's review threshold (version 1 addition).
    needs_review: bool = False

    def to_json(self) -> JSON:
        out: JSON = {"index": self.index, "text": self.text, "target_duration": round(self.target_duration, 3),
                     "confidence": round(self.confidence, 4), "clips": [c.to_json() for c in self.clips]}
        if self.alternatives:
            out["alternatives"] = [a.to_json() for a in self.alternatives]
        out["needs_review"] = self.needs_review
        return out

    @classmethod
    def from_json(cls, data: JSON) -> BeatAlignment:
        return cls(int(data["index"]), str(data.get("text", "")), float(data.get("target_duration", 0.0)),
                   float(data.get("confidence", 0.0)), tuple(Clip.from_json(c) for c in data.get("clips", [])),
                   tuple(AlternativePlacement.from_json(a) for a in data.get("alternatives", [])),
                   bool(data.get("needs_review", False)))


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: str
    path: str
    duration: float

    def to_json(self) -> JSON:
        return {"id": self.id, "path": self.path, "duration": round(self.duration, 3)}

    @classmethod
    def from_json(cls, data: JSON) -> SourceRef:
        return cls(str(data["id"]), str(data["path"]), float(data["duration"]))


@dataclass(frozen=True, slots=True)
class Alignment:
    """The alignment contract (``alignment.json``, version 1)."""

    sources: tuple[SourceRef, ...]
    beats: tuple[BeatAlignment, ...]
    version: int = 1
    meta: JSON = field(default_factory=dict)

    def to_json(self) -> JSON:
        out: JSON = {"version": self.version, "sources": [s.to_json() for s in self.sources],
                     "beats": [b.to_json() for b in self.beats]}
        if self.meta:
            out["meta"] = self.meta
        return out

    @classmethod
    def from_json(cls, data: JSON) -> Alignment:
        return cls(tuple(SourceRef.from_json(s) for s in data["sources"]),
                   tuple(BeatAlignment.from_json(b) for b in data["beats"]),
                   int(data.get("version", 1)), dict(data.get("meta", {})))
