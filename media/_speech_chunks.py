"""Chunked transcription shared by every speech backend (private).

A backend supplies one ``ChunkDecoder`` (transcribe one piece of 16 kHz mono
audio, times relative to the piece); this module cuts the audio stream into
pieces at quiet points, shifts each piece's times to absolute seconds, reports
progress and checks the cancel hook between segments and between pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from media.errors import CancelledError
from media.types import CancelFn, ProgressFn, Segment, Transcript, Word

SAMPLE_RATE = 16000
#: Peak amplitude below which a piece is treated as silence and not decoded (about -60 dBFS).
SILENCE_PEAK = 1e-3
#: Pieces shorter than this are not worth a decoder call.
MIN_PIECE_SECONDS = 0.1
_FRAME = 320  # 20 ms at 16 kHz: the unit of the quiet-point search
#: RMS under which a 10 ms frame inside a word counts as silence (-45 dBFS).
SILENCE_RMS = 10 ** (-45 / 20)
_STEP = 160  # 10 ms: the unit of word-edge trimming
_MIN_WORD_STEPS = 8  # never trim a word below 80 ms


class ChunkDecoder(Protocol):
    """Transcribe one piece; call ``tick(seconds_done)`` after each segment (it may raise CancelledError)."""

    def __call__(self, audio: np.ndarray, language: str | None,
                 tick: Callable[[float], None]) -> tuple[list[Segment], str]: ...


@dataclass(frozen=True, slots=True)
class AudioSource:
    """A stream of mono float32 blocks at 16 kHz and, when known, its total length in seconds."""

    blocks: Iterable[np.ndarray]
    duration: float | None


def quiet_cut(data: np.ndarray, target: int, search: int) -> int:
    """Index near ``target`` (within +-``search`` samples) at the quietest 100 ms of ``data``."""
    lo, hi = max(0, target - search), min(len(data), target + search)
    window = data[lo:hi]
    n = len(window) // _FRAME
    if n < 5:
        return target
    energy = np.square(window[: n * _FRAME].reshape(n, _FRAME), dtype=np.float64).mean(axis=1)
    smooth = np.convolve(energy, np.ones(5) / 5.0, mode="same")
    return lo + int(np.argmin(smooth)) * _FRAME + _FRAME // 2


def iter_pieces(blocks: Iterable[np.ndarray], piece: int, search: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(offset_samples, samples)`` pieces of about ``piece`` samples, cut at quiet points.

    Memory stays bounded by one piece plus the search window, whatever the stream's length.
    """
    buf: list[np.ndarray] = []
    buffered = offset = 0
    for block in blocks:
        buf.append(block)
        buffered += len(block)
        while buffered >= piece + search:
            data = np.concatenate(buf)
            cut = quiet_cut(data, piece, search)
            yield offset, data[:cut]
            offset += cut
            buf, buffered = [data[cut:]], len(data) - cut
    if buffered:
        yield offset, np.concatenate(buf)


def shift_segment(seg: Segment, offset: float) -> Segment:
    """The same segment with every time moved by ``offset`` seconds (rounded to milliseconds)."""
    words = tuple(Word(round(float(w.start) + offset, 3), round(float(w.end) + offset, 3), w.text, w.probability)
                  for w in seg.words)
    return Segment(round(float(seg.start) + offset, 3), round(float(seg.end) + offset, 3), seg.text, words)


def _trim_silence(word: Word, samples: np.ndarray) -> Word:
    """Move a word's start later / end earlier past leading and trailing silence inside it.

    Why: Whisper's cross-attention times often start a word inside the pause before it
    ("banana" after 10 s of silence starts a second early); the energy is exact.
    """
    lo, hi = int(word.start * SAMPLE_RATE), min(len(samples), int(word.end * SAMPLE_RATE))
    n = (hi - lo) // _STEP
    if n <= _MIN_WORD_STEPS:
        return word
    frames = samples[lo: lo + n * _STEP].reshape(n, _STEP)
    loud = np.flatnonzero(np.sqrt(np.square(frames, dtype=np.float64).mean(axis=1)) > SILENCE_RMS)
    if len(loud) == 0:
        return word
    first, last = int(loud[0]), int(loud[-1]) + 1
    if last - first < _MIN_WORD_STEPS:
        last = min(n, first + _MIN_WORD_STEPS)
    start = word.start + first * _STEP / SAMPLE_RATE
    end = word.start + last * _STEP / SAMPLE_RATE if last < n else word.end
    return Word(start, max(start, end), word.text, word.probability)


def trim_segment(seg: Segment, samples: np.ndarray) -> Segment:
    """``seg`` clamped to the piece, every word's silent edges trimmed (times relative to ``samples``)."""
    length = len(samples) / SAMPLE_RATE

    def clamp(t: float) -> float:
        return min(max(float(t), 0.0), length)

    words = tuple(_trim_silence(Word(clamp(w.start), clamp(w.end), w.text, w.probability), samples)
                  for w in seg.words)
    start = min(clamp(seg.start), words[0].start) if words else clamp(seg.start)
    return Segment(start, max(start, clamp(seg.end)), seg.text, words)


def _is_silent(samples: np.ndarray) -> bool:
    return len(samples) < MIN_PIECE_SECONDS * SAMPLE_RATE or float(np.max(np.abs(samples))) < SILENCE_PEAK


def transcribe_chunked(source: AudioSource, decode: ChunkDecoder, *, chunk_seconds: float,
                       language: str | None, default_language: str,
                       progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Transcript:
    """Run ``decode`` over ``source`` piece by piece and return one Transcript with absolute times.

    The language found in the first piece with speech is kept for the following pieces.
    """
    piece = max(1, int(chunk_seconds * SAMPLE_RATE))
    search = min(5 * SAMPLE_RATE, piece // 4)
    total = source.duration
    segments: list[Segment] = []
    found = language
    end = 0
    for offset, samples in iter_pieces(source.blocks, piece, search):
        _check(cancel)
        start_s = offset / SAMPLE_RATE
        end = offset + len(samples)
        if not _is_silent(samples):
            def tick(done: float, _start: float = start_s) -> None:
                _check(cancel)
                if progress is not None and total:
                    progress(min(1.0, (_start + done) / total))

            got, lang = decode(samples, found, tick)
            found = found or lang
            segments.extend(shift_segment(trim_segment(s, samples), start_s) for s in got)
        if progress is not None and total:
            progress(min(1.0, end / SAMPLE_RATE / total))
    if progress is not None:
        progress(1.0)
    return Transcript(found or default_language, round(end / SAMPLE_RATE, 3), tuple(segments))


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise CancelledError("transcription cancelled")
