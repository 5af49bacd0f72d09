"""Captions: cue rules (42 chars, 2 lines, >= 1 s, no overlap), timing to the words, SRT/VTT validity, burn-in."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from media.captions import (
    CaptionOptions,
    Cue,
    build_cues,
    clean_text,
    cue_at,
    draw_caption,
    timeline_words,
    to_srt,
    to_vtt,
    wrap,
    write_captions,
)
from media.tts import Narration
from media.types import Word

SRT_TIME = r"(\d{2}):(\d{2}):(\d{2}),(\d{3})"
VTT_TIME = r"(\d{2}):(\d{2}):(\d{2})\.(\d{3})"


def _words(text: str, start: float = 0.0, step: float = 0.3, pause_every: int = 0) -> list[Word]:
    out, t = [], start
    for i, w in enumerate(text.split()):
        out.append(Word(round(t, 3), round(t + step * 0.8, 3), w))
        t += step + (1.5 if pause_every and (i + 1) % pause_every == 0 else 0.0)
    return out


def _secs(m: tuple[str, ...]) -> float:
    h, mi, s, ms = map(int, m)
    return h * 3600 + mi * 60 + s + ms / 1000


def parse_srt(text: str) -> list[tuple[float, float, list[str]]]:
    """A strict SubRip parser: numbered blocks, one timing line, >= 1 text line, blank line between."""
    cues = []
    for n, block in enumerate(text.strip("\n").split("\n\n"), 1):
        lines = block.split("\n")
        assert lines[0] == str(n)
        m = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert m, lines[1]
        assert len(lines) >= 3 and all(x.strip() for x in lines[2:])
        cues.append((_secs(m.groups()[:4]), _secs(m.groups()[4:]), lines[2:]))
    return cues


def parse_vtt(text: str) -> list[tuple[float, float, list[str]]]:
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text[8:].strip("\n").split("\n\n"):
        lines = block.split("\n")
        m = re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", lines[0])
        assert m, lines[0]
        for x in lines[1:]:
            assert x.strip() and "-->" not in x and "<" not in x
            assert not re.search(r"&(?!amp;|lt;|gt;)", x)
        cues.append((_secs(m.groups()[:4]), _secs(m.groups()[4:]), lines[1:]))
    return cues


TEXT = ("Sintel climbs the frozen mountain pass alone, searching for the small dragon she raised. "
        "An old shaman tells her that the creature was taken by a great beast. She follows the trail "
        "through burning villages and across the sea until she reaches the cave at last.")


@pytest.mark.parametrize("pause_every", [0, 5])
def test_cue_rules_and_word_timing(pause_every: int) -> None:
    words = _words(TEXT, start=2.0, pause_every=pause_every)
    cues = build_cues(words)
    assert " ".join(" ".join(c.lines) for c in cues) == " ".join(w.text for w in words)
    starts = {w.start for w in words}
    for i, c in enumerate(cues):
        assert 1 <= len(c.lines) <= 2
        assert all(len(line) <= 42 for line in c.lines)
        assert any(abs(c.start - s) <= 0.1 for s in starts)      # a cue starts with its first word
        if i + 1 < len(cues):
            assert c.end <= cues[i + 1].start                     # no overlaps
            assert c.end - c.start >= min(1.0, cues[i + 1].start - c.start) - 1e-9
    # every word is on screen while it is spoken (within 100 ms)
    for w in words:
        cue = cue_at(cues, w.start + 0.05)
        assert cue is not None and w.text in " ".join(cue.lines)


def test_minimum_duration_extends_short_cue() -> None:
    cues = build_cues([Word(1.0, 1.2, "Hi."), Word(5.0, 5.3, "Bye.")])
    assert [(c.start, c.end) for c in cues] == [(1.0, 2.0), (5.0, 6.0)]
    squeezed = build_cues([Word(1.0, 1.2, "Hi."), Word(2.4, 2.6, "there"), Word(3.0, 3.2, "again")],
                          CaptionOptions(max_gap=1.0))
    assert squeezed[0].end <= squeezed[1].start


@pytest.mark.parametrize(("words", "lines"), [
    (["a"] * 3, ("a a a",)),
    (["abcdefghij"] * 3, ("abcdefghij abcdefghij abcdefghij",)),
    (["abcdefghij"] * 4, ("abcdefghij abcdefghij", "abcdefghij abcdefghij")),   # 43 chars: two lines
    (["abcdefghij"] * 5, ("abcdefghij abcdefghij", "abcdefghij abcdefghij abcdefghij")),
    (["abcdefghij"] * 9, None),
])
def test_wrap_is_balanced(words: list[str], lines: tuple[str, ...] | None) -> None:
    assert wrap(words, 42, 2) == lines


def test_srt_and_vtt_are_valid_and_round_trip(tmp_path: Path) -> None:
    words = _words(TEXT, start=3600 + 59.5)
    cues = build_cues(words)
    write_captions(cues, tmp_path / "c.srt", tmp_path / "c.vtt")
    srt = parse_srt((tmp_path / "c.srt").read_text(encoding="utf-8"))
    vtt = parse_vtt((tmp_path / "c.vtt").read_text(encoding="utf-8"))
    assert len(srt) == len(vtt) == len(cues)
    for (s0, e0, l0), (s1, e1, l1), c in zip(srt, vtt, cues):
        assert s0 == s1 == pytest.approx(c.start, abs=1e-3) and e0 == e1 == pytest.approx(c.end, abs=1e-3)
        assert l0 == l1 == list(c.lines)
    assert srt[0][0] >= 3600


def test_hostile_text_is_escaped() -> None:
    nasty = ["<b>bold</b>", "a&b", "-->", "x\x00y", "\u202eevil", "line\nbreak", "🐉", "ünïcödé", "W" * 130]
    words = [Word(i * 0.5, i * 0.5 + 0.4, t) for i, t in enumerate(nasty)]
    cues = build_cues(words)
    vtt = to_vtt(cues)
    parsed = parse_vtt(vtt)
    assert "&lt;b&gt;bold&lt;/b&gt;" in vtt and "a&amp;b" in vtt
    assert "\x00" not in vtt and "\u202e" not in vtt
    assert all(len(line) <= 42 for _, _, lines in parsed for line in lines)
    srt = parse_srt(to_srt(cues))
    assert all("-->" not in line for _, _, lines in srt for line in lines)
    assert clean_text("a\tb\r\nc\x07") == "a b c"


def test_timeline_words_shift_and_sort(tmp_path: Path) -> None:
    a = Narration(tmp_path / "a.wav", 2.0, (Word(0.1, 0.5, "one"), Word(0.6, 1.0, "two")))
    b = Narration(tmp_path / "b.wav", 2.0, (Word(0.0, 0.4, "three"),))
    words = timeline_words([(10.0, b), (2.0, a)])
    assert [(w.text, w.start) for w in words] == [("one", 2.1), ("two", 2.6), ("three", 10.0)]


def test_burn_in_draws_text_in_the_lower_part() -> None:
    frame = np.zeros((360, 640, 3), np.uint8)
    out = draw_caption(frame.copy(), Cue(0.0, 1.0, ("Hello dragön", "second line")))
    lit = np.argwhere(out.max(axis=2) > 200)
    assert len(lit) > 200
    assert lit[:, 0].min() > 360 * 0.55            # text sits in the lower part of the frame
    assert draw_caption(frame, None) is frame
    assert cue_at([Cue(0.0, 1.0, ("a",))], 1.0) is None
