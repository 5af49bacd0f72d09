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


@dataclass(frozen=True, slots=True)
class Evidence:
    """``score[i, w]``: combined evidence that beat i is told by window w; ``cosine``/``lexical`` raw."""

    units: list[Unit]
    windows: list[Window]
    score: np.ndarray
    cosine: np.ndarray
    lexical: np.ndarray


def speech_units(transcripts: Sequence[Transcript | None], offsets: Sequence[float],
                 p: EvidenceParams) -> list[Unit]:
    """Units of every source, on the global timeline, in source order."""
    units: list[Unit] = []
    for k, (tr, off) in enumerate(zip(transcripts, offsets, strict=True)):
        if tr is None:
            continue
        words = tr.words
        if not words:  # a transcript without word timings: one unit per segment
            units.extend(Unit(off + s.start, off + s.end, s.text.strip(), k) for s in tr.segments if s.text.strip())
            continue
        units.extend(build_units(words, off, k, max_words=p.unit_max_words, max_gap=p.unit_max_gap))
    return units


def _beat_sentences(beat: Beat) -> list[str]:
    return [s for s in beat.sentences if s.strip()] or split_sentences(beat.text) or [beat.text]


def _embed_windows(embedder: Embedder, units: list[Unit], windows: list[Window], max_words: int,
                   progress: ProgressFn, cancel: CancelFn) -> np.ndarray:
    """Window vectors: the model reads windows up to ``max_words``; a longer one is the word-weighted
    mean of its units' vectors (performance: the cost stays linear in the transcript's length)."""
    n_words = np.array([max(len(u.text.split()), 1) for u in units], dtype=np.float32)
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
    return out


def gather(beats: Sequence[Beat], units: list[Unit], embedder: Embedder, p: EvidenceParams,
           expected: np.ndarray, unit_pos: np.ndarray, progress: ProgressFn, cancel: CancelFn) -> Evidence:
    """Embed beats, sentences and windows; add lexical cues and the position prior."""
    windows = build_windows(units, p.scales)
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
    scales = np.array([w.scale for w in windows], dtype=np.int64)
    score = combine(cosine, lexical, p.lexical_weight, scales) * np.sqrt(np.minimum(1.0, words / _FULL_EVIDENCE_WORDS))
    score = score + position_prior(windows, unit_pos, expected, p.position_weight, p.position_sigma)
    return Evidence(units, windows, score, cosine, lexical)
