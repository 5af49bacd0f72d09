"""SRT and WebVTT parsing (private): cues as Segments, and narration cues grouped into beats."""

from __future__ import annotations

import html
import re

from media._script_text import normalise, split_sentences
from media.types import Segment

_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[,.](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"</?(?:[a-zA-Z][^<>]*|\d[\d:.]*)>|\{\\[^{}]*\}")  # <i>, <v Name>, <c.x>, <00:01.000>, {\an8}
_BLOCK_KEYWORDS = ("NOTE", "STYLE", "REGION")
#: A cue that only describes sound ("[music]", "(laughs)") is not narration.
_DESCRIPTION = re.compile(r"^\s*(?:\[[^\]]*\]|\([^)]*\)|♪+[^♪]*♪*)\s*$")
#: Narration cue groups: a pause longer than this starts a new beat...
CUE_GAP = 1.0
#: ...and so does a sentence end once a beat has run this long.
MAX_BEAT_SECONDS = 20.0


def looks_like_subtitles(text: str) -> str | None:
    """"vtt", "srt" or None, from the first lines."""
    head = text.lstrip("\ufeff \n")
    if head.startswith("WEBVTT"):
        return "vtt"
    lines = [ln for ln in head.split("\n", 12)[:12] if ln.strip()]
    return "srt" if any(_TIMING.match(ln) for ln in lines[:4]) else None


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, frac = groups
    fraction = int((frac or "0").ljust(3, "0")) / 1000.0
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0) + fraction


def _clean(lines: list[str]) -> str:
    text = " ".join(_TAG.sub("", ln) for ln in lines)
    return normalise(html.unescape(text)).replace("\n", " ").strip()


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in normalise(text).split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def parse_cues(text: str) -> tuple[Segment, ...]:
    """Every timed cue of an SRT or WebVTT text, in file order, tags and entities removed.

    Cue numbers and VTT identifiers, cue settings, the WEBVTT header and NOTE/STYLE/REGION
    blocks are skipped; a block without a timing line is ignored.
    """
    cues: list[Segment] = []
    for block in _blocks(text):
        if block[0].startswith("WEBVTT") or block[0].split(" ", 1)[0] in _BLOCK_KEYWORDS:
            continue
        at = next((i for i, ln in enumerate(block[:3]) if _TIMING.match(ln)), None)
        if at is None:
            continue
        match = _TIMING.match(block[at])
        assert match is not None
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        body = _clean(block[at + 1:])
        if body and end >= start:
            cues.append(Segment(round(start, 3), round(end, 3), body))
    return tuple(cues)


def group_cues(cues: tuple[Segment, ...]) -> list[tuple[float, float, str]]:
    """Narration cues -> beats ``(start, end, text)``: split on pauses, and on sentence ends in long beats."""
    beats: list[tuple[float, float, str]] = []
    current: list[Segment] = []

    def flush() -> None:
        if current:
            beats.append((current[0].start, current[-1].end, " ".join(c.text for c in current)))
            current.clear()

    for cue in cues:
        if _DESCRIPTION.match(cue.text):
            flush()
            continue
        if current:
            gap = cue.start - current[-1].end
            long_done = (current[-1].end - current[0].start >= MAX_BEAT_SECONDS
                         and split_sentences(current[-1].text)[-1].rstrip("\"')").endswith((".", "!", "?")))
            if gap > CUE_GAP or long_done:
                flush()
        current.append(cue)
    flush()
    return beats
