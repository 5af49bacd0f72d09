"""Private: the evidence for alignment: speech units, windows, embeddings and the beat x window scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from media._align_score import combine, position_prior
from media._align_text import Lexicon, Unit, Window, build_units, build_windows, lexical_matrix, split_sentences, tokens
from media.embed import Embedder
from media.errors import CancelledError
from media.types import Beat, CancelFn, ProgressFn, Transcript

_BLOCK = 256  # texts per embedding call between progress reports and cancel checks
_FULL_EVIDENCE_WORDS = 8.0  # a window with fewer words counts for less


@dataclass(frozen=True, slots=True)
class EvidenceParams:
    scales: tuple[float, ...]
    unit_max_words: int
    unit_max_gap: float
    max_window_words: int
    sentence_weight: float
    lexical_weight: float
    fuzzy_cutoff: float
    position_weight: float
    position_sigma: float
    silence_min: float = 5.0
    silence_cosine: float = 0.25
    length_weight: float = 1.0
    scene_gaps: tuple[float, ...] = (2.0, 5.0)
    scene_max: float = 150.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """``score[i, w]``: combined evidence that beat i is told by window w, priors included; ``plain``
    the same without the length and position priors; ``cosine``/``lexical`` raw."""

    units: list[Unit]
    windows: list[Window]
    score: np.ndarray
    cosine: np.ndarray
    lexical: np.ndarray
    plain: np.ndarray


def speech_units(transcripts: Sequence[Transcript | None], offsets: Sequence[float],
                 p: EvidenceParams, durations: Sequence[float] | None = None) -> list[Unit]:
    """Units of every source, on the global timeline, in source order; a pause of ``silence_min`` or
    more (and a long silent start or end of a source) becomes a *silence unit* (empty text): a beat may
    tell a stretch without dialogue, and a long scene's silences belong to its extent."""
    units: list[Unit] = []
    for k, (tr, off) in enumerate(zip(transcripts, offsets, strict=True)):
        if tr is None:
            continue
        words = tr.words
        if not words:  # a transcript without word timings: one unit per segment
            spoken = [Unit(off + s.start, off + s.end, s.text.strip(), k) for s in tr.segments if s.text.strip()]
        else:
            spoken = build_units(words, off, k, max_words=p.unit_max_words, max_gap=p.unit_max_gap)
        end = off + (durations[k] if durations is not None else (spoken[-1].end if spoken else off))
        units.extend(_with_silences(spoken, off, end, k, p.silence_min))
    return units


def _with_silences(spoken: list[Unit], start: float, end: float, source: int, min_len: float) -> list[Unit]:
    out: list[Unit] = []
    prev = start
    for u in [*spoken, Unit(end, end, "", source)]:
        if u.start - prev >= min_len:
            out.append(Unit(prev + (0.5 if out or prev > start else 0.0), u.start - (0.5 if u.text else 0.0), "",
                            source))
        if u.text:
            out.append(u)
        prev = max(prev, u.end)
    return out


def scene_windows(units: list[Unit], gaps: Sequence[float], max_span: float, first_scale: int) -> list[Window]:
    """Whole-scene windows: maximal runs of units without a pause (or silence unit) of ``gap`` seconds,
    one group per gap; evidence from the whole scene rather than its best few lines."""
    out: list[Window] = []
    for k, gap in enumerate(sorted(gaps)):
        begin = 0
        for i in range(1, len(units) + 1):
            brk = i == len(units) or units[i].source != units[i - 1].source or \
                units[i].start - units[i - 1].end >= gap or _is_silence(units[i], gap) or \
                _is_silence(units[i - 1], gap)
            if not brk:
                continue
            run = [j for j in range(begin, i) if not _is_silence(units[j], gap)]
            if run and units[run[-1]].end - units[run[0]].start <= max_span and run[-1] > run[0]:
                text = " ".join(units[j].text for j in run if units[j].text)
                out.append(Window(run[0], run[-1], first_scale + k, text))
            begin = i
    return out


def _is_silence(u: Unit, at_least: float = 0.0) -> bool:
    return not u.text and u.end - u.start >= at_least


def _beat_sentences(beat: Beat) -> list[str]:
    return [s for s in beat.sentences if s.strip()] or split_sentences(beat.text) or [beat.text]


def _embed_windows(embedder: Embedder, units: list[Unit], windows: list[Window], max_words: int,
                   progress: ProgressFn, cancel: CancelFn) -> np.ndarray:
    """Window vectors: the model reads windows up to ``max_words``; a longer one is the word-weighted
    mean of its units' vectors (performance: the cost stays linear in the transcript's length)."""
    n_words = np.array([len(u.text.split()) for u in units], dtype=np.float32)  # 0 for silence units
    direct = [j for j, w in enumerate(windows) if w.first == w.last or n_words[w.first:w.last + 1].sum() <= max_words]
    texts = [windows[j].text for j in direct]
    blocks = []
    for k in range(0, max(len(texts), 1), _BLOCK):
        if cancel():
            raise CancelledError("alignment cancelled")
        blocks.append(embedder.encode(texts[k:k + _BLOCK]))
        progress(min(1.0, (k + _BLOCK) / max(len(texts), 1)))
    vecs = np.concatenate(blocks)
    out = np.zeros((len(windows), vecs.shape[1]), dtype=np.float32)
    out[direct] = vecs
    unit_vec = np.zeros((len(units), vecs.shape[1]), dtype=np.float32)
    for j, v in zip(direct, vecs, strict=True):
        if windows[j].first == windows[j].last:
            unit_vec[windows[j].first] = v
    for j, w in enumerate(windows):
        if w.first != w.last and n_words[w.first:w.last + 1].sum() > max_words:
            v = (unit_vec[w.first:w.last + 1] * n_words[w.first:w.last + 1, None]).sum(axis=0)
            out[j] = v / max(float(np.linalg.norm(v)), 1e-12)
    silent = np.array([not w.text.strip() for w in windows], dtype=bool)
    out[silent] = 0.0
    return out


def gather(beats: Sequence[Beat], units: list[Unit], embedder: Embedder, p: EvidenceParams,
           expected: np.ndarray, unit_pos: np.ndarray, progress: ProgressFn, cancel: CancelFn,
           targets: Sequence[float] | None = None) -> Evidence:
    """Embed beats, sentences and windows; add lexical cues, the length and position priors; score
    the silent windows (no speech) as if they read like the beat at cosine ``silence_cosine``."""
    # a window of several units starts and ends on speech (a pause is the silence window's own)
    windows = [w for w in build_windows(units, p.scales)
               if w.first == w.last or (units[w.first].text and units[w.last].text)]
    seen = {(w.first, w.last) for w in windows}
    windows += [w for w in scene_windows(units, p.scene_gaps, p.scene_max, len(p.scales) + 1)
                if (w.first, w.last) not in seen]
    wvec = _embed_windows(embedder, units, windows, p.max_window_words, progress, cancel)
    texts = [b.text for b in beats]
    bvec = embedder.encode(texts)
    sentences = [_beat_sentences(b) for b in beats]
    svec = embedder.encode([s for ss in sentences for s in ss])
    cos_beat = bvec @ wvec.T
    cos_sent = np.zeros_like(cos_beat)
    pos = 0
    for i, ss in enumerate(sentences):
        cos_sent[i] = (svec[pos:pos + len(ss)] @ wvec.T).mean(axis=0)
        pos += len(ss)
    cosine = ((1 - p.sentence_weight) * cos_beat + p.sentence_weight * cos_sent).astype(np.float32)
    lexicon = Lexicon([tokens(u.text) for u in units], texts, fuzzy_cutoff=p.fuzzy_cutoff)
    lexical = lexical_matrix(lexicon, texts, [w.text for w in windows])
    # A window of a few words is weak evidence (one name, "Hello."): shrink its score toward the mean.
    words = np.array([len(w.text.split()) for w in windows], dtype=np.float32)
    silent = words == 0
    scales = np.array([w.scale if not silent[j] else -1 for j, w in enumerate(windows)], dtype=np.int64)
    score = combine(cosine, lexical, p.lexical_weight, scales) * np.sqrt(np.minimum(1.0, words / _FULL_EVIDENCE_WORDS))
    if silent.any():
        score[:, silent] = _silence_score(cosine, scales, p.silence_cosine)[:, None]
    plain = score.copy()
    if targets is not None and p.length_weight > 0:
        extent = np.array([max(units[w.last].end - units[w.first].start, 0.5) for w in windows], dtype=np.float64)
        tgt = np.asarray(targets, dtype=np.float64)[:, None]
        score = score - (p.length_weight * np.maximum(0.0, np.log(tgt / extent[None, :]))).astype(np.float32)
    score = score + position_prior(windows, unit_pos, expected, p.position_weight, p.position_sigma)
    return Evidence(units, windows, score, cosine, lexical, plain)


def _silence_score(cosine: np.ndarray, scales: np.ndarray, at: float) -> np.ndarray:
    """Per beat: the z-score (among single sentences) of a sentence at cosine ``at``."""
    cols = scales == 0
    if cols.sum() < 2:
        return np.zeros(cosine.shape[0], dtype=np.float32)
    ref = cosine[:, cols]
    return np.asarray((at - ref.mean(axis=1)) / np.maximum(ref.std(axis=1), 1e-3), dtype=np.float32)
