"""Beat timing from a recorded narration (private): align the narration's words to the script's beats."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass

import numpy as np

from media._script_text import tokens
from media.types import JSON, Script, Transcript


@dataclass(frozen=True, slots=True)
class BeatSpan:
    """Where one beat is spoken in the narration audio, in seconds.

    Spans of consecutive beats touch (the cut lies in the middle of the pause between them) and
    together cover the whole narration. ``matched`` is the fraction of the beat's words heard in
    the narration (low: the narration does not read this beat, and the span is interpolated).
    """

    index: int
    start: float
    end: float
    matched: float = 1.0

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> JSON:
        return {"index": self.index, "start": round(self.start, 3), "end": round(self.end, 3),
                "matched": round(self.matched, 4)}

    @classmethod
    def from_json(cls, data: JSON) -> BeatSpan:
        return cls(int(data["index"]), float(data["start"]), float(data["end"]), float(data.get("matched", 1.0)))


def _token_times(script_toks: list[str], asr_toks: list[str],
                 asr_times: list[tuple[float, float]]) -> tuple[list[tuple[float, float] | None], int]:
    """Matched script tokens get their narration word's (start, end); the rest stay None."""
    times: list[tuple[float, float] | None] = [None] * len(script_toks)
    matcher = difflib.SequenceMatcher(None, script_toks, asr_toks, autojunk=False)
    hits = 0
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            times[block.a + k] = asr_times[block.b + k]
            hits += 1
    return times, hits


def _interpolate(times: list[tuple[float, float] | None], lo: float, hi: float) -> list[tuple[float, float]]:
    """Fill unmatched tokens linearly between their matched neighbours (``lo``/``hi`` at the ends)."""
    n = len(times)
    out: list[tuple[float, float]] = []
    prev_t = lo
    i = 0
    while i < n:
        known = times[i]
        if known is not None:
            out.append(known)
            prev_t = known[1]
            i += 1
            continue
        j = i
        while j < n and times[j] is None:
            j += 1
        next_t = times[j][0] if j < n and times[j] is not None else hi  # type: ignore[index]
        next_t = max(next_t, prev_t)
        step = (next_t - prev_t) / (j - i)
        out.extend((prev_t + step * (k - i), prev_t + step * (k - i + 1)) for k in range(i, j))
        i = j
    return out


def quietest(audio: np.ndarray, lo: float, hi: float, sample_rate: int = 16000) -> float | None:
    """Time of the quietest 100 ms in [lo, hi] of ``audio`` (10 ms frames); None when the window is too short."""
    step = sample_rate // 100
    a, z = max(0, int(lo * sample_rate)), min(len(audio), int(hi * sample_rate))
    n = (z - a) // step
    if n < 10:
        return None
    frames = np.asarray(audio[a: a + n * step], dtype=np.float64).reshape(n, step)
    energy = np.convolve(np.square(frames).mean(axis=1), np.ones(10) / 10.0, mode="valid")
    return (a + (int(np.argmin(energy)) + 5) * step) / sample_rate


def time_beats(script: Script, transcript: Transcript,
               audio: np.ndarray | None = None) -> tuple[Script, list[BeatSpan]]:
    """Each beat's span in the narration and the script with ``target_duration`` = that span."""
    words = transcript.words
    asr_toks: list[str] = []
    asr_times: list[tuple[float, float]] = []
    for w in words:
        for tok in tokens(w.text):
            asr_toks.append(tok)
            asr_times.append((w.start, w.end))
    owner: list[int] = []
    script_toks: list[str] = []
    for b, beat in enumerate(script.beats):
        toks = tokens(beat.text)
        script_toks.extend(toks)
        owner.extend([b] * len(toks))
    duration = max(transcript.duration, words[-1].end if words else 0.0)
    lo, hi = (words[0].start, words[-1].end) if words else (0.0, duration)
    raw, _ = _token_times(script_toks, asr_toks, asr_times)
    filled = _interpolate(raw, lo, hi)
    spans = _spans(script, owner, raw, filled, duration, audio)
    beats = tuple(dataclasses.replace(beat, target_duration=round(span.duration, 3))
                  for beat, span in zip(script.beats, spans, strict=True))
    return dataclasses.replace(script, beats=beats), spans


def _spans(script: Script, owner: list[int], raw: list[tuple[float, float] | None],
           filled: list[tuple[float, float]], duration: float, audio: np.ndarray | None) -> list[BeatSpan]:
    n = len(script.beats)
    first: list[tuple[float, float] | None] = [None] * n  # (start, end) of each beat's first word
    last: list[tuple[float, float] | None] = [None] * n   # ... and of its last word
    hit, count = [0] * n, [0] * n
    for k, b in enumerate(owner):
        if first[b] is None:
            first[b] = filled[k]
        last[b] = filled[k]
        count[b] += 1
        hit[b] += raw[k] is not None
    bounds = [0.0]
    for b in range(1, n):
        prev_last, this_first = last[b - 1], first[b]
        tail = prev_last if prev_last is not None else (bounds[-1], bounds[-1])
        head = this_first if this_first is not None else (tail[1], tail[1])
        cut = (tail[1] + max(head[0], tail[1])) / 2  # the middle of the pause between the beats
        if audio is not None:
            # ASR word edges blur into pauses: with the audio, cut at the quietest point between the
            # middle of one beat's last word and the middle of the next beat's first word.
            cut = quietest(audio, (tail[0] + tail[1]) / 2, (head[0] + head[1]) / 2) or cut
        bounds.append(min(duration, max(bounds[-1], cut)))
    bounds.append(max(duration, bounds[-1]))
    return [BeatSpan(b, round(bounds[b], 3), round(bounds[b + 1], 3), hit[b] / count[b] if count[b] else 0.0)
            for b in range(n)]
