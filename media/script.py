"""Recap scripts: parse text, Markdown, SRT or WebVTT into chapters and beats with target durations.

    script = load_script("recap.md")                       # or parse_script(text, fmt="auto")
    script, spans = time_beats_from_narration(script, transcriber.transcribe("narration.wav"))
    print([(b.index, b.target_duration) for b in script.beats], spans[0].to_json())

Rules: a paragraph (lines separated by blank lines) is a beat, indexed in paragraph order; a line that
starts with ``#`` is a chapter heading, never a beat. The first ``#`` (level 1) heading before any beat
is also the script's title; a chapter without beats is dropped. Markdown emphasis, links, list and quote
markers are stripped from beat text; text is NFKC-normalised with straight quotes and plain dashes, and
control and bidi-override characters are removed. SRT/WebVTT narration scripts become beats grouped from
their cues, timed by the cues. Otherwise a beat's target duration comes from the speaking rate.

Limits (``media.errors``): ``EmptyScriptError`` (SCRIPT_EMPTY), ``BinaryScriptError`` (SCRIPT_BINARY: NUL
bytes or not UTF-8/UTF-16), ``ScriptTooLargeError`` (SCRIPT_TOO_LARGE: over 2 MB, checked before decoding),
``BeatTooLongError`` (BEAT_TOO_LONG: a beat over 2,000 words).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from media._script_subs import group_cues, looks_like_subtitles, parse_cues
from media._script_text import (
    RULE,
    normalise,
    split_sentences,
    strip_markdown_blocks,
    strip_markdown_line,
    word_count,
)
from media._script_timing import BeatSpan, time_beats
from media.errors import BeatTooLongError, BinaryScriptError, EmptyScriptError, ScriptTooLargeError
from media.types import MAX_SCRIPT_BYTES, Beat, Chapter, Script, Segment, Transcript

__all__ = [
    "MAX_BEAT_WORDS", "MAX_SCRIPT_BYTES", "MAX_SUBTITLE_BYTES", "BeatSpan", "ScriptFormat", "load_script",
    "parse_script", "read_subtitles", "time_beats_from_narration",
]

ScriptFormat = Literal["auto", "text", "markdown", "srt", "vtt"]
MAX_BEAT_WORDS = 2000
MAX_SUBTITLE_BYTES = 16 * 1024 * 1024
_HEADING = re.compile(r"^\s{0,3}(#+)\s*(.*?)\s*#*\s*$")
_FORMATS = ("auto", "text", "markdown", "srt", "vtt")


def _decode(data: bytes, name: str, *, lenient: bool = False) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; ``lenient`` adds cp1252 (old subtitle files)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as ex:
            raise BinaryScriptError(f"{name} is not valid UTF-16 text") from ex
    if b"\x00" in data:
        raise BinaryScriptError(f"{name} is binary (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        if lenient:
            return data.decode("cp1252", errors="replace")
        raise BinaryScriptError(f"{name} is not UTF-8 text (byte {ex.start})") from ex


def _read_limited(path: str | Path, limit: int, error: type[Exception]) -> bytes:
    p = Path(path)
    size = p.stat().st_size  # the size on disk first: a huge file is refused before it is read
    if size > limit:
        raise error(f"{p.name} is {size} bytes; the limit is {limit}")
    with p.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise error(f"{p.name} is over {limit} bytes")
    return data


def _check_text(text: str) -> None:
    if len(text) > MAX_SCRIPT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_SCRIPT_BYTES:
        raise ScriptTooLargeError(f"the script is over {MAX_SCRIPT_BYTES} bytes")
    if "\x00" in text:
        raise BinaryScriptError("the script contains NUL characters: binary data, not text")


@dataclass
class _Builder:
    """Collects beats and chapters while the document is read."""

    words_per_minute: float
    title: str | None = None
    beats: list[Beat] = field(default_factory=list)
    chapters: list[tuple[str, int]] = field(default_factory=list)

    def heading(self, level: int, title: str) -> None:
        if not title:
            return
        if self.title is None and level == 1 and not self.beats and not self.chapters:
            self.title = title
        self.chapters.append((title, len(self.beats)))

    def beat(self, text: str, duration: float | None = None) -> None:
        text = " ".join(text.split())
        if not text:
            return
        index = len(self.beats)
        words = word_count(text)
        if words > MAX_BEAT_WORDS:
            raise BeatTooLongError(f"beat {index} has {words} words; the limit is {MAX_BEAT_WORDS}: "
                                   "split it into paragraphs")
        chapter = len(self.chapters) - 1 if self.chapters else None
        if duration is None:
            duration = words / self.words_per_minute * 60.0
        self.beats.append(Beat(index, text, chapter, round(duration, 3), split_sentences(text)))

    def build(self) -> Script:
        if not self.beats:
            raise EmptyScriptError("the script has no paragraphs to narrate")
        kept: list[Chapter] = []
        renumber: dict[int, int] = {}
        for old, (title, first) in enumerate(self.chapters):
            end = self.chapters[old + 1][1] if old + 1 < len(self.chapters) else len(self.beats)
            if end > first:  # a chapter without beats is dropped
                renumber[old] = len(kept)
                kept.append(Chapter(len(kept), title, first))
        beats = tuple(Beat(b.index, b.text, None if b.chapter is None else renumber[b.chapter],
                           b.target_duration, b.sentences) for b in self.beats)
        return Script(self.title, tuple(kept), beats)


def _parse_document(text: str, markdown: bool, builder: _Builder) -> None:
    if markdown:
        text = strip_markdown_blocks(text)
    paragraph: list[str] = []

    def flush() -> None:
        builder.beat(" ".join(paragraph))
        paragraph.clear()

    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            flush()
            title = strip_markdown_line(heading.group(2)) if markdown else heading.group(2)
            builder.heading(len(heading.group(1)), title or "")
        elif not line.strip() or (markdown and RULE.match(line)):
            flush()
        else:
            body = strip_markdown_line(line) if markdown else line.strip()
            if body:
                paragraph.append(body)
    flush()


def parse_script(text: str, *, fmt: ScriptFormat = "auto", words_per_minute: float = 160.0) -> Script:
    """Parse a recap script into chapters and beats.

    Args:
        text: the script.
        fmt: "text" (plain paragraphs; ``#`` lines are still headings), "markdown" (also strips Markdown),
            "srt" / "vtt" (a timed narration script), or "auto": subtitles when the text starts like them,
            else Markdown.
        words_per_minute: speaking rate that gives each beat's target duration (text and Markdown).

    Returns:
        The Script; beat indices follow paragraph order.

    Raises:
        EmptyScriptError, BinaryScriptError, ScriptTooLargeError, BeatTooLongError: see the module docstring.
    """
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    if not 40.0 <= words_per_minute <= 400.0:
        raise ValueError("words_per_minute must be in [40, 400]")
    _check_text(text)
    if fmt == "auto":
        fmt = looks_like_subtitles(text) or "markdown"  # type: ignore[assignment]
    builder = _Builder(words_per_minute)
    if fmt in ("srt", "vtt"):
        for start, end, body in group_cues(parse_cues(text)):
            builder.beat(body, duration=max(0.0, end - start))
    else:
        _parse_document(normalise(text), fmt == "markdown", builder)
    return builder.build()


def load_script(path: str | Path, *, fmt: ScriptFormat = "auto", words_per_minute: float = 160.0) -> Script:
    """Read and parse a script file (size checked before reading; UTF-8 or UTF-16 with BOM).

    ``fmt="auto"`` also uses the suffix: ``.srt``, ``.vtt``, ``.txt`` (text), else Markdown detection.
    """
    p = Path(path)
    text = _decode(_read_limited(p, MAX_SCRIPT_BYTES, ScriptTooLargeError), p.name)
    if fmt == "auto":
        by_suffix: dict[str, ScriptFormat] = {".srt": "srt", ".vtt": "vtt", ".txt": "text"}
        fmt = by_suffix.get(p.suffix.lower(), "auto")
        if fmt == "text" and looks_like_subtitles(text):
            fmt = "auto"  # a .txt holding subtitles
    return parse_script(text, fmt=fmt, words_per_minute=words_per_minute)


def read_subtitles(path: str | Path) -> tuple[Segment, ...]:
    """The cues of an SRT or WebVTT file as Segments (seconds, tags removed), BOM and CRLF tolerated.

    Raises:
        BinaryScriptError: NUL bytes; ScriptTooLargeError: over 16 MB.
    """
    p = Path(path)
    return parse_cues(_decode(_read_limited(p, MAX_SUBTITLE_BYTES, ScriptTooLargeError), p.name, lenient=True))


def time_beats_from_narration(script: Script, transcript: Transcript,
                              audio: np.ndarray | None = None) -> tuple[Script, list[BeatSpan]]:
    """Time every beat from a recorded narration of the script.

    The narration's words are aligned to the script's words (order-preserving sequence matching over
    normalised tokens, so ASR errors only lose the words they touch); a beat's span runs from the middle of
    the pause before its first word to the middle of the pause after its last. Words the ASR missed are
    interpolated from their neighbours, so every beat gets a span even when none of its words was heard.

    Args:
        script: the parsed script.
        transcript: the narration's transcript, with word timestamps.
        audio: the narration as 16 kHz mono samples (optional): each cut then moves to the quietest
            100 ms between the two beats' facing words, instead of the middle of the ASR's gap.

    Returns:
        The script with each ``target_duration`` set to its span's length, and one BeatSpan per beat
        (contiguous, covering [0, narration duration]) for cutting the narration per beat.
    """
    return time_beats(script, transcript, audio)
