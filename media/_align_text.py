"""Private: speech units, multi-scale windows and lexical identity cues for the aligner.

A *unit* is a short run of transcribed words (about a sentence) on the global timeline; a *window*
is a run of consecutive units spanning about ``scale`` seconds. Lexical similarity is an
IDF-weighted overlap of content tokens, with fuzzy matching for names that speech recognition
mangles ("Mary Dawn" heard as "Mary Don" or "Marydong").
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

from media.types import Word

_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_SENTENCE_BREAK = re.compile(r"[.!?…]+['\"”’)\]]*(?=\s)")
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "vs.", "prof.", "capt.", "lt.", "sgt."})

_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just let me more most my myself no nor not now
of off on once only or other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself yourselves s t don't i'm it's
that's he's she's we're they're you're i've i'll i'd can't won't isn't wasn't didn't doesn't oh yeah okay ok
well get got go going gets come comes came one says said say tell tells told
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_UNITS_TEXT = ("zero one two three four five six seven eight nine ten "
               "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty")
_TENS_TEXT = "thirty forty fifty sixty seventy eighty ninety"
_NUMBERS = {w: str(i) for i, w in enumerate(_UNITS_TEXT.split())}
_NUMBERS.update({w: str(10 * (i + 3)) for i, w in enumerate(_TENS_TEXT.split())})
_NUMBERS.update({"hundred": "100", "thousand": "1000", "first": "1", "second": "2", "third": "3"})


@dataclass(frozen=True, slots=True)
class Unit:
    """About one sentence of speech, on the global timeline."""

    start: float
    end: float
    text: str
    source: int


@dataclass(frozen=True, slots=True)
class Window:
    """Consecutive units ``first..last`` (inclusive) embedded together."""

    first: int
    last: int
    scale: int
    text: str


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences on end punctuation (not after Mr., Dr., ...)."""
    flat = " ".join(text.split())
    out, begin = [], 0
    for m in _SENTENCE_BREAK.finditer(flat):
        words = flat[begin:m.end()].split()
        if words and words[-1].lower() in _ABBREVIATIONS:
            continue
        out.append(flat[begin:m.end()].strip())
        begin = m.end()
    out.append(flat[begin:].strip())
    return [p for p in out if p]


def build_units(words: list[Word], offset: float, source: int, *, max_words: int, max_gap: float) -> list[Unit]:
    """Group words into units: split at sentence ends, pauses (or stretched words) and ``max_words``."""
    units: list[Unit] = []
    cur: list[Word] = []

    def flush() -> None:
        if cur:
            text = " ".join(w.text.strip() for w in cur).strip()
            if text:
                units.append(Unit(offset + cur[0].start, offset + max(cur[-1].end, cur[0].start), text, source))
            cur.clear()

    for w in words:
        if not w.text.strip():
            continue
        # A word stretched over a pause (ASR absorbs silence into word timings) also marks a break.
        if cur and (w.start - cur[-1].end > max_gap or cur[-1].end - cur[-1].start > max_gap + 0.6):
            flush()
        cur.append(w)
        ends = _SENTENCE_END.search(w.text.strip()) and w.text.strip().lower() not in _ABBREVIATIONS
        if ends or len(cur) >= max_words:
            flush()
    flush()
    return units


def build_windows(units: list[Unit], scales: tuple[float, ...]) -> list[Window]:
    """Single units, plus runs of consecutive units (one source) spanning up to each ``scale`` seconds.

    Performance: a run of scale s starts only every s/4 seconds (every unit for the smallest scale), so
    the text to embed grows linearly with the source, not with the square of the largest scale.
    """
    seen: set[tuple[int, int]] = set()
    windows = []
    for i, u in enumerate(units):
        seen.add((i, i))
        windows.append(Window(i, i, 0, u.text))
    for k, scale in enumerate(scales, start=1):
        stride = 0.0 if k == 1 else scale / 4
        next_start = -math.inf
        for i, u in enumerate(units):
            new_source = i == 0 or units[i - 1].source != u.source
            if u.start < next_start and not new_source:
                continue
            next_start = u.start + stride
            j = i
            while j + 1 < len(units) and units[j + 1].source == u.source and units[j + 1].end - u.start <= scale:
                j += 1
            if (i, j) not in seen:
                seen.add((i, j))
                windows.append(Window(i, j, k, " ".join(x.text for x in units[i:j + 1])))
    return windows


def tokens(text: str) -> list[str]:
    """Content tokens: lower case, accents folded, stopwords dropped, numbers as digits, light stemming."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    out = []
    for tok in _TOKEN.findall(folded):
        if tok in _STOPWORDS:
            continue
        tok = _NUMBERS.get(tok, tok)
        tok = re.sub(r"(st|nd|rd|th)$", "", tok) if tok[:1].isdigit() else _stem(tok)
        if len(tok) > 1 or tok.isdigit():
            out.append(tok)
    return out


_FUZZY_MIN_LEN = 7  # a non-name script word needs this many letters to get fuzzy aliases


def _stem(tok: str) -> str:
    tok = tok.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if tok.endswith(suffix) and len(tok) - len(suffix) >= 4:
            return tok[: -len(suffix)]
    return tok


def _trigrams(tok: str) -> set[str]:
    padded = f"#{tok}#"
    return {padded[k:k + 3] for k in range(len(padded) - 2)}


def _name_candidates(text: str) -> set[str]:
    """Capitalised words and every two-word run of them, as tokens and as one joined token."""
    out: set[str] = set()
    prev: list[str] = []
    for word in text.split():
        toks = tokens(word) if word[:1].isupper() else []
        out.update(toks)
        if len(prev) == 1 and len(toks) == 1:
            out.add(prev[0] + toks[0])
        prev = toks
    return out


class Lexicon:
    """IDF weights from the transcript units and a fuzzy map from script tokens to heard tokens."""

    def __init__(self, unit_tokens: list[list[str]], script_texts: list[str], *, fuzzy_cutoff: float) -> None:
        df = Counter(t for toks in unit_tokens for t in set(toks))
        n = max(len(unit_tokens), 1)
        self.idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = math.log((n + 1) / 0.5)
        grams: dict[str, set[str]] = {}
        for tok in df:
            for g in _trigrams(tok):
                grams.setdefault(g, set()).add(tok)
        self.alias: dict[str, list[str]] = {}
        # Fuzzy matches for script words never heard as such: a name the recogniser mangled ("Dawn" heard
        # as "Don"), a two-word name heard as one word, or another form of a word ("night" / "tonight").
        # Performance: only heard words sharing two letter-trigrams are compared (a trigram index).
        # A short common word is one letter away from many others ("tell" / "sell"): only names (and
        # their two-word joins) and long words get aliases.
        names = {c for text in script_texts for c in _name_candidates(text)}
        cands = {t for text in script_texts for t in tokens(text) if len(t) >= _FUZZY_MIN_LEN} | names
        for cand in cands:
            if cand in df or len(cand) < 4 or cand.isdigit():
                continue
            hits = Counter(t for g in _trigrams(cand) for t in grams.get(g, ()))
            pool = [t for t, n in hits.items() if n >= 2]
            self.alias[cand] = difflib.get_close_matches(cand, pool, n=3, cutoff=fuzzy_cutoff)

    def weight(self, tok: str) -> float:
        return self.idf.get(tok, self.max_idf)


def lexical_matrix(lex: Lexicon, beat_texts: list[str], window_texts: list[str]) -> np.ndarray:
    """IDF-weighted overlap of token sets, cosine-normalised so that longer windows gain no free score.

    A script token also matches its fuzzy aliases among the heard tokens, at a discount.
    """
    # Performance: only tokens the script can match matter; one dense product over that small vocabulary.
    beat_w: list[dict[str, float]] = []
    totals = np.zeros(len(beat_texts), dtype=np.float32)
    for i, text in enumerate(beat_texts):
        toks = tokens(text)
        row: dict[str, float] = {}
        for tok in set(toks):
            w = lex.weight(tok)
            totals[i] += w
            row[tok] = max(row.get(tok, 0.0), w)
            for a in lex.alias.get(tok, ()):
                row[a] = max(row.get(a, 0.0), 0.8 * w)
        for bg in {a + b for a, b in itertools.pairwise(toks)}:  # a two-word name heard as one word
            for a in lex.alias.get(bg, ()):
                row[a] = max(row.get(a, 0.0), 0.8 * lex.weight(bg))
        beat_w.append(row)
    vocab = {t: k for k, t in enumerate(sorted({t for row in beat_w for t in row}))}
    bm = np.zeros((len(beat_texts), len(vocab)), dtype=np.float32)
    for i, row in enumerate(beat_w):
        for t, w in row.items():
            bm[i, vocab[t]] = w
    wm = np.zeros((len(window_texts), len(vocab)), dtype=np.float32)
    mass = np.zeros(len(window_texts), dtype=np.float32)
    for j, text in enumerate(window_texts):
        heard = set(tokens(text))
        mass[j] = sum(lex.weight(t) for t in heard)
        for t in heard:
            k = vocab.get(t)
            if k is not None:
                wm[j, k] = 1.0
    out = (bm @ wm.T) / np.sqrt(np.maximum(totals, 1e-6)[:, None] * np.maximum(mass, 1e-6)[None, :])
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float32)
