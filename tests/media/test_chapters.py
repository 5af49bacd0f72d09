"""YouTube chapters: first at 00:00, each >= 10 s, >= 3 or none, sanitised titles."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from media.chapters import ChapterMark, build_chapters, format_chapters, sanitize_title, write_chapters
from media.types import Chapter


def _chapters(*firsts: int) -> list[Chapter]:
    return [Chapter(i, f"Part {i + 1}", b) for i, b in enumerate(firsts)]


STARTS = {0: 0.0, 1: 12.0, 2: 25.0, 3: 31.0, 4: 50.0, 5: 70.0}


@pytest.mark.parametrize(("firsts", "duration", "offset", "expected"), [
    # plain: three headings far apart
    ((0, 2, 4), 90.0, 0.0, "00:00 Part 1\n00:25 Part 2\n00:50 Part 3\n"),
    # a heading 6 s after the previous one merges into it
    ((0, 2, 3, 4), 90.0, 0.0, "00:00 Part 1\n00:25 Part 2\n00:50 Part 4\n"),
    # only two survive: no chapters at all
    ((0, 4), 90.0, 0.0, ""),
    # the first heading starts late: an Intro chapter at 00:00
    ((2, 4, 5), 90.0, 0.0, "00:00 Intro\n00:25 Part 1\n00:50 Part 2\n01:10 Part 3\n"),
    # the first heading starts within 10 s: it moves to 00:00
    ((1, 2, 4), 90.0, -5.0, "00:00 Part 1\n00:20 Part 2\n00:45 Part 3\n"),
    # an intro of 5 s shifts everything; the last chapter would be under 10 s: dropped
    ((0, 2, 4, 5), 82.0, 5.0, "00:00 Part 1\n00:30 Part 2\n00:55 Part 3\n"),
])
def test_youtube_rules(firsts: tuple[int, ...], duration: float, offset: float, expected: str) -> None:
    marks = build_chapters(_chapters(*firsts), STARTS, duration, offset=offset)
    assert format_chapters(marks) == expected
    if marks:
        assert marks[0].start == 0.0
        assert all(b.start - a.start >= 10 for a, b in itertools.pairwise(marks))
        assert duration - marks[-1].start >= 10


def test_hour_long_uses_hours() -> None:
    marks = [ChapterMark(0, "A"), ChapterMark(1800, "B"), ChapterMark(3725, "C")]
    assert format_chapters(marks) == "0:00:00 A\n0:30:00 B\n1:02:05 C\n"


@pytest.mark.parametrize(("title", "clean"), [
    ("# The Dragon", "The Dragon"),
    ("00:12 Fake stamp", "Fake stamp"),
    ("Line\nbreak\x00 and\ttab", "Line break and tab"),
    ("\u202eevil", "evil"),
    ("🐉 Ünïcode", "🐉 Ünïcode"),
    ("   ", "Chapter"),
    ("x" * 300, "x" * 99 + "…"),
])
def test_titles_are_sanitised(title: str, clean: str) -> None:
    assert sanitize_title(title) == clean


def test_write_chapters(tmp_path: Path) -> None:
    marks = build_chapters(_chapters(0, 2, 4), STARTS, 90.0)
    write_chapters(tmp_path / "chapters.txt", marks)
    lines = (tmp_path / "chapters.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("00:00 ") and len(lines) == 3
    assert ChapterMark.from_json(marks[1].to_json()) == marks[1]
