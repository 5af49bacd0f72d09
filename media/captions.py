"""Captions from the narration's word timings: SRT and WebVTT files, and burn-in onto frames.

Cues hold at most 2 lines of at most 42 characters, show for at least ~1 s where the next cue
allows, never overlap, and start exactly at their first word::

    cues = build_cues(timeline_words([(slot.start, narration) for slot, narration in placed]))
    write_captions(cues, Path("out/captions.srt"), Path("out/captions.vtt"))
    frame = draw_caption(frame_bgr, cue_at(cues, t))
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.errors import OutputError
from media.tts import Narration
from media.types import JSON, Word

__all__ = [
    "CaptionOptions", "Cue", "ascii_fold", "build_cues", "clean_text", "cue_at", "draw_caption", "drawable",
    "timeline_words", "to_srt", "to_vtt", "wrap", "write_captions", "write_text_atomic",
]

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")


@dataclass(frozen=True, slots=True)
class CaptionOptions:
    max_chars: int = 42
    max_lines: int = 2
    min_duration: float = 1.0
    max_duration: float = 7.0
    max_gap: float = 1.0

    def __post_init__(self) -> None:
        if not 10 <= self.max_chars <= 80:
            raise ValueError("max_chars must be in [10, 80]")
        if not 1 <= self.max_lines <= 3:
            raise ValueError("max_lines must be in [1, 3]")
        if not 0 < self.min_duration <= self.max_duration:
            raise ValueError("min_duration must be in (0, max_duration]")


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def to_json(self) -> JSON:
        return {"start": self.start, "end": self.end, "lines": list(self.lines)}

    @classmethod
    def from_json(cls, data: JSON) -> Cue:
        return cls(float(data["start"]), float(data["end"]), tuple(str(x) for x in data["lines"]))


def clean_text(text: str) -> str:
    """Remove control and bidi-override characters; collapse whitespace."""
    text = _BIDI.sub("", text)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(text.split())


def timeline_words(placed: Sequence[tuple[float, Narration]]) -> list[Word]:
    """The narration words shifted onto the output timeline, in time order."""
    out = [Word(round(start + w.start, 3), round(start + w.end, 3), w.text, w.probability)
           for start, narration in placed for w in narration.words]
    return sorted(out, key=lambda w: w.start)


def _pieces(word: str, limit: int) -> list[str]:
    return [word[i:i + limit] for i in range(0, len(word), limit)] or [""]


def wrap(words: Sequence[str], max_chars: int, max_lines: int) -> tuple[str, ...] | None:
    """Balanced wrap of ``words`` into at most ``max_lines`` lines of ``max_chars``; None when they do not fit."""
    tokens = [p for w in words for p in _pieces(w, max_chars)]
    if len(" ".join(tokens)) <= max_chars:
        return (" ".join(tokens),)
    if max_lines == 1:
        return None
    best: tuple[str, ...] | None = None
    for cut in range(1, len(tokens)):
        head = " ".join(tokens[:cut])
        if len(head) > max_chars:
            break
        tail = wrap(tokens[cut:], max_chars, max_lines - 1)
        if tail is not None and (best is None or max(map(len, (head, *tail))) < max(map(len, best))):
            best = (head, *tail)
    return best


def _groups(words: Sequence[Word], opts: CaptionOptions) -> list[list[Word]]:
    """Greedy cue groups: a cue ends at a long pause, at max length/duration, or after a sentence once half full."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
        if current:
            texts = [x.text for x in current] + [w.text]
            too_long = wrap(texts, opts.max_chars, opts.max_lines) is None
            too_slow = w.end - current[0].start > opts.max_duration or w.start - current[-1].end > opts.max_gap
            sentence = current[-1].text[-1:] in ".!?" and len(" ".join(texts)) > opts.max_chars // 2
            if too_long and not too_slow and not sentence:
                groups.append(_clause_break(current))
                current = current[len(groups[-1]):]
            elif too_long or too_slow or sentence:
                groups.append(current)
                current = []
        current.append(w)
    if current:
        groups.append(current)
    return groups


def _split_word(w: Word, text: str, limit: int) -> list[Word]:
    """A word longer than a line becomes line-sized pieces sharing its time span."""
    parts = _pieces(text, limit)
    step = (w.end - w.start) / len(parts)
    return [Word(w.start + i * step, w.start + (i + 1) * step, p, w.probability) for i, p in enumerate(parts)]


def _clause_break(words: list[Word]) -> list[Word]:
    """The head of a full cue: up to its last comma/semicolon/colon in the second half, else all of it."""
    for k in range(len(words) - 2, len(words) // 2 - 1, -1):
        if words[k].text[-1:] in ",;:":
            return words[:k + 1]
    return words


def build_cues(words: Sequence[Word], options: CaptionOptions | None = None) -> list[Cue]:
    """Caption cues from timed words (output timeline seconds)."""
    opts = options or CaptionOptions()
    clean = [piece for w in words if (t := clean_text(w.text)) for piece in _split_word(w, t, opts.max_chars)]
    groups = _groups(sorted(clean, key=lambda w: w.start), opts)
    cues: list[Cue] = []
    for i, group in enumerate(groups):
        start, end = group[0].start, max(group[-1].end, group[0].start + 0.001)
        limit = groups[i + 1][0].start if i + 1 < len(groups) else float("inf")
        end = min(max(end, start + opts.min_duration), limit)
        lines = wrap([w.text for w in group], opts.max_chars, opts.max_lines) or (group[0].text,)
        cues.append(Cue(round(start, 3), round(end, 3), lines))
    return [c for c in cues if c.end > c.start]


def _stamp(t: float, sep: str) -> str:
    ms = max(0, round(t * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``; '-->' inside text is defused."""
    blocks = [f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n" + "\n".join(
        line.replace("-->", "->") for line in c.lines) for i, c in enumerate(cues, 1)]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text with ``&``, ``<`` and ``>`` escaped (so no markup and no '-->' reaches a player)."""
    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n" + "\n".join(_vtt_escape(x) for x in c.lines)
              for c in cues]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + ("\n" if blocks else "")


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text under a temporary name, then rename (no half-written file under ``path``)."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path.name}: {ex.strerror or ex}") from ex


def write_captions(cues: Sequence[Cue], srt_path: Path | None = None, vtt_path: Path | None = None) -> None:
    """Write the SRT and/or VTT files atomically (UTF-8)."""
    if srt_path is not None:
        write_text_atomic(srt_path, to_srt(cues))
    if vtt_path is not None:
        write_text_atomic(vtt_path, to_vtt(cues))


def cue_at(cues: Sequence[Cue], t: float) -> Cue | None:
    """The cue on screen at time ``t`` (binary search)."""
    lo, hi = 0, len(cues)
    while lo < hi:
        mid = (lo + hi) // 2
        if cues[mid].end <= t:
            lo = mid + 1
        else:
            hi = mid
    return cues[lo] if lo < len(cues) and cues[lo].start <= t else None


def ascii_fold(line: str) -> str:
    """Fold accents (é -> e) and replace other non-ASCII characters with '?'."""
    folded = unicodedata.normalize("NFKD", line)
    return "".join(c if c.isascii() else ("" if unicodedata.combining(c) else "?") for c in folded)


def drawable(line: str) -> str:
    """Text OpenCV can draw: OpenCV 5's built-in fonts cover Unicode (emoji become '?'); older ones ASCII only."""
    import cv2

    return line if int(cv2.__version__.split(".")[0]) >= 5 else ascii_fold(line)


def draw_caption(frame: np.ndarray, cue: Cue | None) -> np.ndarray:
    """Draw a cue's lines, centred near the bottom, white with a black outline, onto a BGR/RGB uint8 frame."""
    if cue is None:
        return frame
    import cv2

    h, w = frame.shape[:2]
    scale = max(0.4, h / 720 * 1.1)
    thick = max(1, round(scale * 2))
    font = cv2.FONT_HERSHEY_SIMPLEX
    lines = [drawable(x) for x in cue.lines]
    sizes = [cv2.getTextSize(x, font, scale, thick)[0] for x in lines]
    line_h = int(max(s[1] for s in sizes) * 1.6) + 4
    y = h - int(h * 0.06) - line_h * (len(lines) - 1)
    out = np.ascontiguousarray(frame)
    for text, (tw, _) in zip(lines, sizes, strict=True):
        x = max(2, (w - tw) // 2)
        cv2.putText(out, text, (x, y), font, scale, (0, 0, 0), thick + 3, cv2.LINE_AA)
        cv2.putText(out, text, (x, y), font, scale, (255, 255, 255), thick, cv2.LINE_AA)
        y += line_h
    return out
