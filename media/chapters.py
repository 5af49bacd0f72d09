"""YouTube chapters (``chapters.txt``) from the script's headings, mapped to output times.

YouTube's rules: the first chapter starts at 00:00, every chapter lasts at least 10 s, and a
video has at least 3 chapters, or the list is ignored; so shorter chapters merge into the one
before them, and fewer than 3 give no chapters at all::

    marks = build_chapters(script.chapters, {s.beat: s.start for s in edl.slots}, edl.duration, offset=intro)
    write_chapters(Path("out/chapters.txt"), marks)
    print(format_chapters(marks))   # "00:00 Intro\\n01:12 The dragon\\n..."
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from media.captions import clean_text, write_text_atomic
from media.types import JSON, Chapter

__all__ = ["ChapterMark", "build_chapters", "format_chapters", "sanitize_title", "write_chapters"]

MIN_CHAPTER = 10.0
MIN_COUNT = 3
MAX_TITLE = 100
_LEADING_STAMP = re.compile(r"^\(?\d{1,2}(:\d{2}){1,2}\)?[\s\-–—:.]*")


@dataclass(frozen=True, slots=True)
class ChapterMark:
    start: float
    title: str

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> ChapterMark:
        return cls(float(data["start"]), str(data["title"]))


def sanitize_title(title: str, fallback: str = "Chapter") -> str:
    """One line, no control characters, no leading timestamp (YouTube would parse it), at most 100 chars."""
    text = clean_text(title).lstrip("#").strip()
    text = _LEADING_STAMP.sub("", text).strip()
    if len(text) > MAX_TITLE:
        text = text[:MAX_TITLE - 1].rstrip() + "…"
    return text or fallback


def build_chapters(chapters: Sequence[Chapter], beat_starts: Mapping[int, float], duration: float, *,
                   offset: float = 0.0, intro_title: str = "Intro", min_length: float = MIN_CHAPTER,
                   min_count: int = MIN_COUNT) -> list[ChapterMark]:
    """Chapter marks on the output timeline, or ``[]`` when YouTube's rules leave fewer than ``min_count``.

    Args:
        chapters: the script's headings (each names its first beat).
        beat_starts: output-timeline start of each beat (from the EDL's slots), before ``offset``.
        duration: the finished video's length (intro and outro included).
        offset: seconds added before the program (the intro's length).
        intro_title: the title of a chapter inserted at 00:00 when the first heading starts later than
            ``min_length`` (otherwise the first heading is moved to 00:00).
    """
    marks = sorted((ChapterMark(offset + beat_starts[c.first_beat], sanitize_title(c.title, f"Chapter {c.index + 1}"))
                    for c in chapters if c.first_beat in beat_starts), key=lambda m: m.start)
    if not marks:
        return []
    if marks[0].start >= min_length:
        marks.insert(0, ChapterMark(0.0, sanitize_title(intro_title, "Intro")))
    marks[0] = ChapterMark(0.0, marks[0].title)
    kept: list[ChapterMark] = []
    for mark in marks:
        if kept and mark.start - kept[-1].start < min_length:
            continue  # too close to the previous chapter: the previous one spans it
        kept.append(mark)
    while kept and duration - kept[-1].start < min_length:
        kept.pop()  # the last chapter would be too short: the one before it runs to the end
    return kept if len(kept) >= min_count else []


def _stamp(t: float, hours: bool) -> str:
    s = int(t)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if hours else f"{m:02d}:{s:02d}"


def format_chapters(marks: Sequence[ChapterMark]) -> str:
    """``MM:SS Title`` lines (``H:MM:SS`` for videos an hour or longer), as YouTube's description expects."""
    hours = any(m.start >= 3600 for m in marks)
    return "".join(f"{_stamp(m.start, hours)} {m.title}\n" for m in marks)


def write_chapters(path: Path, marks: Sequence[ChapterMark]) -> None:
    """Write ``chapters.txt`` atomically (an empty file when there are no chapters)."""
    write_text_atomic(path, format_chapters(marks))
