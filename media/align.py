"""Script-to-footage alignment: find, for every beat of a recap script, the moments of the sources it tells.

Speech is cut into sentence-sized units and multi-scale windows; beats (and their sentences) and
windows are embedded; IDF-weighted lexical cues (names, rare words, numbers, fuzzy for names the
recogniser mangles) are added; an order-constrained dynamic programme picks one window per beat;
clips are then cut on shot boundaries around each window to fill the beat's target duration.

    src = AlignSource("s0", "movie.mp4", 612.3, shots, transcript)
    result = align(load_script("recap.md"), [src])
    print(result.to_json())
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from media._align_clips import (
    Interval,
    PickRules,
    Track,
    candidate_pieces,
    make_track,
    merge,
    pick,
    snap_edge,
    spread,
)
from media._align_evidence import Evidence, EvidenceParams, gather, speech_units
from media._align_score import Solution, alternatives, confidence, solve
from media._align_text import Unit
from media.embed import Embedder
from media.errors import CancelledError, InputError
from media.types import (
    Alignment,
    AlternativePlacement,
    BeatAlignment,
    CancelFn,
    Clip,
    ProgressFn,
    Script,
    Shot,
    SourceRef,
    Transcript,
)

__all__ = ["AlignOptions", "AlignSource", "align"]

_FALLBACK_CONFIDENCE = 0.15


@dataclass(frozen=True, slots=True)
class AlignSource:
    """One source (a movie, or one episode) with its analysis: shots, transcript, unusable ranges."""

    id: str
    path: str
    duration: float
    shots: Sequence[Shot] = ()
    transcript: Transcript | None = None
    unusable: Sequence[tuple[float, float]] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("source id must not be empty")
        if not self.duration > 0:
            raise ValueError(f"source {self.id}: duration must be > 0")
        object.__setattr__(self, "shots", tuple(self.shots))
        object.__setattr__(self, "unusable", tuple((float(a), float(b)) for a, b in self.unusable))


@dataclass(frozen=True, slots=True)
class AlignOptions:
    """Knobs of the aligner; scores are per-beat z-scores, so penalties are in standard deviations.

    Args:
        back_penalty: cost of placing a beat before (or over) the previous beat's footage, where
            reordering is allowed (``reorder`` for the whole script, ``reorder_beats`` for some beats:
            beat i may then come before beat i-1's footage). Otherwise the order is the film's.
        silence_min / silence_cosine: a pause this long is a candidate for a beat without dialogue,
            scored as a sentence reading like the beat at this cosine.
        length_weight: penalty (per e-fold) for a window of footage shorter than the beat's narration.
        scene_gaps: pauses that delimit whole-scene windows.
        scene_pause / same_scene: a shot cut inside a pause this long is a likely scene change; two
            consecutive beats with none between their footage pay ``same_scene``.
        alternatives / review_below: alternatives listed per beat; confidence under which a beat is
            flagged ``needs_review``.
        scales: window sizes in seconds, besides single sentences.
        lexical_weight: weight of the IDF token overlap next to the embedding similarity.
        sentence_weight: share of the beat's sentences (vs the whole paragraph) in the similarity.
        position_weight / position_sigma: weak prior that beat i sits near its share of the script.
        words_per_second: speaking rate for beats without a target duration.
        extend_drop: how much weaker (z) a grown region may score while it is filled toward the target.
        context_pad: seconds of footage allowed around the matched speech (at most half the pause).
        fill_reach: a beat whose matched speech is shorter than its target takes the footage under free
            speech up to this far beyond it (never another beat's); 0 leaves it short for the assembly to pad.
        snap: a shot boundary this close outside the zone is used instead of cutting inside the shot.
        min_clip / max_overshoot: shortest clip kept; longest overshoot of the target before trimming.
        min_words: fewer recognised words than this in all sources -> order-and-duration fallback.
    """

    back_penalty: float = 6.0
    reorder: bool = False
    reorder_beats: tuple[int, ...] = ()
    scales: tuple[float, ...] = (10.0, 20.0, 40.0, 80.0)
    lexical_weight: float = 1.0
    sentence_weight: float = 0.5
    position_weight: float = 0.1
    position_sigma: float = 0.35
    fuzzy_cutoff: float = 0.75
    unit_max_words: int = 16
    unit_max_gap: float = 0.6
    max_window_words: int = 40
    words_per_second: float = 2.5
    extend_drop: float = 1.0
    context_pad: float = 1.0
    fill_reach: float = 8.0
    snap: float = 1.0
    min_clip: float = 0.4
    max_overshoot: float = 1.5
    min_words: int = 10
    silence_min: float = 5.0
    silence_cosine: float = 0.15
    length_weight: float = 1.0
    scene_gaps: tuple[float, ...] = (2.0, 5.0)
    alternatives: int = 3
    review_below: float = 0.6
    scene_pause: float = 0.8
    same_scene: float = 2.0

    def __post_init__(self) -> None:
        nonneg = ("back_penalty", "lexical_weight", "position_weight", "extend_drop", "context_pad", "fill_reach",
                  "snap", "max_overshoot")
        for name in nonneg:
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")
        if not self.scales or any(not s > 0 for s in self.scales):
            raise ValueError("scales must be a non-empty tuple of positive seconds")
        if not 0 <= self.sentence_weight <= 1:
            raise ValueError("sentence_weight must be in [0, 1]")
        if not 0 < self.fuzzy_cutoff <= 1:
            raise ValueError("fuzzy_cutoff must be in (0, 1]")
        if not self.position_sigma > 0 or not self.words_per_second > 0 or not self.min_clip > 0:
            raise ValueError("position_sigma, words_per_second and min_clip must be > 0")
        if self.unit_max_words < 1 or self.max_window_words < 8 or self.unit_max_gap <= 0 or self.min_words < 1:
            raise ValueError("unit_max_words >= 1, max_window_words >= 8, unit_max_gap > 0, min_words >= 1")

    def evidence_params(self) -> EvidenceParams:
        return EvidenceParams(tuple(sorted(self.scales)), self.unit_max_words, self.unit_max_gap,
                              self.max_window_words, self.sentence_weight, self.lexical_weight, self.fuzzy_cutoff,
                              self.position_weight, self.position_sigma, self.silence_min, self.silence_cosine,
                              self.length_weight, tuple(self.scene_gaps))

    def back_costs(self, n_beats: int) -> np.ndarray:
        """Per beat, the cost of coming before (or over) the previous beat's footage; inf: not allowed."""
        out = np.full(n_beats, self.back_penalty if self.reorder else np.inf, dtype=np.float64)
        for i in self.reorder_beats:
            if 0 <= i < n_beats:
                out[i] = self.back_penalty
        return out

    def pick_rules(self) -> PickRules:
        return PickRules(self.snap, self.min_clip, self.max_overshoot)


def align(script: Script, sources: Sequence[AlignSource], options: AlignOptions | None = None,
          embedder: Embedder | None = None, progress: ProgressFn | None = None,
          cancel: CancelFn | None = None) -> Alignment:
    """Align every beat of ``script`` to footage of ``sources`` (taken in the order given).

    Args:
        script: the parsed recap script; each beat's ``target_duration`` (0: from its word count).
        sources: the movie or the episodes, in story order.
        options: tuning; defaults suit feature films and series.
        embedder: a loaded model to reuse; None loads the packaged MiniLM.
        progress: called with a fraction in [0, 1].
        cancel: returns True to stop; raises CancelledError.

    Returns:
        The ``alignment.json`` contract: sources in order, beats in order, clips in source seconds.

    Raises:
        InputError: no beats or no sources. ModelError: the embedding model cannot load.
        CancelledError: ``cancel`` returned True.
    """
    opts = options or AlignOptions()
    report = progress or (lambda _f: None)
    stop = cancel or (lambda: False)
    if not script.beats:
        raise InputError("the script has no beats", code="SCRIPT_EMPTY")
    if not sources:
        raise InputError("no sources to align to", code="NO_SOURCES")
    tracks, offsets = _tracks(sources)
    targets = [_target(b.text, b.target_duration, opts.words_per_second) for b in script.beats]
    params = opts.evidence_params()
    units = speech_units([s.transcript for s in sources], offsets, params, [s.duration for s in sources])
    report(0.02)
    refs = tuple(SourceRef(s.id, s.path, s.duration) for s in sources)
    if sum(len(u.text.split()) for u in units) < opts.min_words:
        beats = _fallback(script, tracks, targets, sources, opts)
        report(1.0)
        note = "no dialogue found: beats spread over the footage by order and duration; confidence is low"
        return Alignment(refs, tuple(beats), meta={"method": "order-duration fallback", "notes": [note]})
    emb = embedder or Embedder()
    _check(stop)
    total = tracks[-1].end
    expected = _expected_positions(targets)
    unit_pos = np.array([(u.start + u.end) / 2 / total for u in units], dtype=np.float64)
    ev = gather(script.beats, units, emb, params, expected, unit_pos, lambda f: report(0.05 + 0.85 * f), stop,
                targets)
    _check(stop)
    starts = np.array([units[w.first].start for w in ev.windows], dtype=np.float64)
    ends = np.array([units[w.last].end for w in ev.windows], dtype=np.float64)
    sol = solve(ev.score, starts, ends, opts.back_costs(len(script.beats)), _scene_boundaries(units, tracks,
                opts.scene_pause), opts.same_scene)
    path = sol.path
    regions = _grow_regions(ev, path, targets, opts.extend_drop)
    evidence: list[list[float]] = []
    beats = _clips_for_beats(script, ev, sol, regions, tracks, targets, sources, opts, evidence)
    report(1.0)
    meta = {"method": "embedding+lexical, order-constrained DP", "units": len(units), "windows": len(ev.windows),
            "model": _model_name(emb), "short_beats": [b.index for b, t in zip(beats, targets, strict=True)
                                                           if sum(c.duration for c in b.clips) < 0.5 * t],
            "needs_review": [b.index for b in beats if b.needs_review],
            "evidence": {"fields": ["margin", "cosine", "lexical", "zone_factor"], "beats": evidence}}
    return Alignment(refs, tuple(beats), meta=meta)


def _scene_boundaries(units: list[Unit], tracks: Sequence[Track], min_pause: float) -> np.ndarray:
    """Likely scene changes: a shot cut inside a pause of at least ``min_pause`` seconds (or a silence
    unit), and every source start. A cut inside running dialogue is shot/reverse shot, not a new scene."""
    speech = [u for u in units if u.text]
    pauses = [(a.end, b.start) for a, b in itertools.pairwise(speech)
              if a.source == b.source and b.start - a.end >= min_pause]
    out = [tr.offset for tr in tracks]
    cuts = np.array(sorted(s for tr in tracks for s, _ in tr.shots[1:]), dtype=np.float64)
    for t0, t1 in pauses:
        lo, hi = np.searchsorted(cuts, [t0, t1])
        out.extend(cuts[lo:hi].tolist())
    for tr in tracks:  # footage before the first and after the last speech of each source
        sp = [u for u in speech if u.source == tr.index]
        if sp:
            out.extend(c for c in cuts if c < sp[0].start or c > sp[-1].end)
    return np.unique(np.array(out, dtype=np.float64))


def _model_name(emb: Embedder) -> str:
    path = emb.model_dir
    return path.parent.name if path.name == "model" else path.name


def _check(cancel: CancelFn) -> None:
    if cancel():
        raise CancelledError("alignment cancelled")


def _target(text: str, given: float, wps: float) -> float:
    return given if given > 0 else max(len(text.split()) / wps, 1.0)


def _expected_positions(targets: Sequence[float]) -> np.ndarray:
    cum = np.cumsum([0.0, *targets])
    return np.asarray((cum[:-1] + cum[1:]) / 2 / max(float(cum[-1]), 1e-9), dtype=np.float64)


def _tracks(sources: Sequence[AlignSource]) -> tuple[list[Track], list[float]]:
    tracks, offsets, off = [], [], 0.0
    for k, s in enumerate(sources):
        tracks.append(make_track(k, off, s.duration, [(sh.start, sh.end) for sh in s.shots], s.unusable))
        offsets.append(off)
        off += s.duration
    return tracks, offsets


def _grow_regions(ev: Evidence, path: list[int], targets: Sequence[float], drop: float) -> list[tuple[int, int]]:
    """Each beat's chosen window, replaced by a larger window around it while that is needed to reach the
    target duration, covers no other beat's speech and still reads like the beat (within ``drop``)."""
    first = np.array([w.first for w in ev.windows], dtype=np.int64)
    last = np.array([w.last for w in ev.windows], dtype=np.int64)
    regions = [(int(first[j]), int(last[j])) for j in path]
    owner = np.full(len(ev.units), -1, dtype=np.int64)
    for i, (f, e) in enumerate(regions):
        owner[f:e + 1] = np.where(owner[f:e + 1] < 0, i, owner[f:e + 1])
    single = (first == last) & (np.array([w.scale for w in ev.windows]) == 0)
    silence = np.array([not u.text for u in ev.units], dtype=bool)
    unit_score = np.zeros((len(path), len(ev.units)), dtype=np.float32)
    unit_score[:, first[single]] = ev.plain[:, single]
    for i, j in enumerate(path):
        f, e = regions[i]
        floor = float(ev.score[i, j]) - drop
        if ev.units[e].end - ev.units[f].start >= targets[i]:
            continue
        # a unit may be added only if it is free and reads like the beat by itself (above its average)
        blocked = ((owner >= 0) & (owner != i)) | (unit_score[i] < 0.0) | silence
        blocked[f:e + 1] = False
        taken = np.concatenate(([0], np.cumsum(blocked)))
        ok = (first <= f) & (last >= e) & (taken[last + 1] - taken[first] == 0) & (ev.score[i] >= floor)
        ok &= ~((first == f) & (last == e))
        if not ok.any():
            continue
        k = int(np.flatnonzero(ok)[np.argmax(ev.score[i][ok])])
        regions[i] = (int(first[k]), int(last[k]))
        owner[first[k]:last[k] + 1] = i
    return regions


def _zone(units: list[Unit], first: int, last: int, tracks: Sequence[Track], pad: float, snap: float) -> Interval:
    """The region's speech plus context: at most ``pad`` and half the pause to other speech, or to a
    shot boundary within ``snap`` of the speech edge when there is one."""
    t0, t1 = units[first].start, units[last].end
    tr = tracks[units[first].source]
    has_prev = first > 0 and units[first - 1].source == tr.index
    has_next = last + 1 < len(units) and units[last + 1].source == tr.index
    # half the pause to other speech; a silence unit next to the region is no speech: up to its far edge
    left = tr.offset if not has_prev else units[first - 1].start if not units[first - 1].text \
        else (units[first - 1].end + t0) / 2
    right = tr.end if not has_next else units[last + 1].end if not units[last + 1].text \
        else (t1 + units[last + 1].start) / 2
    start = snap_edge(t0, max(left, t0 - snap), t0 + snap, tr)
    end = snap_edge(t1, t1 - snap, min(right, t1 + snap), tr)
    z0 = start if start is not None else max(t0 - pad, left)
    z1 = end if end is not None else min(t1 + pad, right)
    return max(z0, tr.offset), min(max(z1, z0), tr.end)


def _anchor(ev: Evidence, i: int, f: int, e: int) -> float:
    """Middle of the region's single sentence that reads most like the beat."""
    best, t = -np.inf, (ev.units[f].start + ev.units[e].end) / 2
    for j, w in enumerate(ev.windows):
        if w.scale == 0 and f <= w.first <= e and ev.score[i, j] > best:
            best, t = float(ev.score[i, j]), (ev.units[w.first].start + ev.units[w.first].end) / 2
    return t


def _beat_zones(ev: Evidence, regions: list[tuple[int, int]], tracks: list[Track], opts: AlignOptions
                ) -> list[tuple[Interval, Interval, Interval]]:
    """Per beat: its zone; free footage between its neighbours' speech; the whole timeline."""
    out = []
    everything = (tracks[0].offset, tracks[-1].end)
    for i, (f, e) in enumerate(regions):
        zone = _zone(ev.units, f, e, tracks, opts.context_pad, opts.snap)
        lo = ev.units[regions[i - 1][1]].end if i > 0 else everything[0]
        hi = ev.units[regions[i + 1][0]].start if i + 1 < len(regions) else everything[1]
        out.append((zone, (min(lo, zone[0]), max(hi, zone[1])), everything))
    return out


def _unit_scores(ev: Evidence) -> np.ndarray:
    """Beat x unit: the score of each single-unit window."""
    out = np.zeros((ev.score.shape[0], len(ev.units)), dtype=np.float32)
    for j, w in enumerate(ev.windows):
        if w.scale == 0:
            out[:, w.first] = ev.plain[:, j]
    return out


def _fill_regions(ev: Evidence, regions: list[tuple[int, int]], reach: float) -> list[tuple[int, int]]:
    """Each region stretched over the free speech next to it that reads like the beat (score above its
    average), at most ``reach`` seconds each way."""
    unit_score = _unit_scores(ev)
    owner = np.full(len(ev.units), -1, dtype=np.int64)
    for i, (f, e) in enumerate(regions):
        owner[f:e + 1] = i
    speech = np.array([bool(u.text) for u in ev.units], dtype=bool)
    out = []
    for i, (f, e) in enumerate(regions):
        free = (owner < 0) & (unit_score[i] >= 0.0) & speech
        src = ev.units[f].source
        lo, hi = f, e
        while lo > 0 and free[lo - 1] and ev.units[lo - 1].source == src \
                and ev.units[f].start - ev.units[lo - 1].start <= reach:
            lo -= 1
        while hi + 1 < len(ev.units) and free[hi + 1] and ev.units[hi + 1].source == src \
                and ev.units[hi + 1].end - ev.units[e].end <= reach:
            hi += 1
        out.append((lo, hi))
    return out


def _fill_short(chosen: list[list[tuple[int, Interval]]], fill_zones: list[Interval], anchors: list[float],
                targets: list[float], tracks: list[Track], used: list[Interval], opts: AlignOptions) -> None:
    """A beat whose matched speech is shorter than its narration takes the free footage under the
    unclaimed speech next to it: a paraphrase often matches a few lines of its scene, and the scene goes
    on around them. Silence beyond that is left alone (it may be a cut to another scene)."""
    rules = opts.pick_rules()
    for i, pieces in enumerate(chosen):
        have = sum(b - a for _, (a, b) in pieces)
        if not pieces or have >= targets[i] - rules.max_overshoot:
            continue
        extra = pick(candidate_pieces(tracks, fill_zones[i], used, rules), anchors[i], targets[i] - have, rules)
        used.extend(span for _, span in extra)
        pieces.extend(extra)
        pieces[:] = merge(sorted(pieces, key=lambda p: (p[0], p[1][0])))


def _clips_for_beats(script: Script, ev: Evidence, sol: Solution, regions: list[tuple[int, int]],
                     tracks: list[Track], targets: list[float], sources: Sequence[AlignSource],
                     opts: AlignOptions, evidence: list[list[float]]) -> list[BeatAlignment]:
    """Clips per beat; footage given to one beat is never given to another.

    Every beat first draws from its own zone; a beat whose zone is all taken or unusable then draws
    from free footage between its neighbours, and only then from anywhere (footage out of order beats
    a black screen under the narration; its confidence says so).
    """
    path = sol.path
    rules = opts.pick_rules()
    zones = _beat_zones(ev, regions, tracks, opts)
    anchors = [_anchor(ev, i, f, e) for i, (f, e) in enumerate(regions)]
    used: list[Interval] = []
    chosen: list[list[tuple[int, Interval]]] = [[] for _ in regions]
    factor = [0.0] * len(regions)
    for stage, scale in enumerate((1.0, 0.7, 0.3)):
        for i in range(len(regions)):
            if chosen[i]:
                continue
            chosen[i] = pick(candidate_pieces(tracks, zones[i][stage], used, rules), anchors[i], targets[i], rules)
            factor[i] = scale
            used.extend(span for _, span in chosen[i])
    if opts.fill_reach > 0:
        fills = [_zone(ev.units, f, e, tracks, opts.context_pad, opts.snap)
                 for f, e in _fill_regions(ev, regions, opts.fill_reach)]
        _fill_short(chosen, fills, anchors, targets, tracks, used, opts)
    starts = np.array([ev.units[w.first].start for w in ev.windows], dtype=np.float64)
    ends = np.array([ev.units[w.last].end for w in ev.windows], dtype=np.float64)
    out = []
    for i, beat in enumerate(script.beats):
        j = path[i]
        alts = alternatives(sol.marginal[i], starts, ends, j, max(opts.alternatives, 1))
        margin = float(sol.marginal[i, j] - alts[0][1]) if alts else 10.0
        conf = confidence(margin, float(ev.cosine[i, j]), float(ev.lexical[i, j])) * factor[i] if chosen[i] else 0.0
        evidence.append([round(min(margin, 10.0), 3), round(float(ev.cosine[i, j]), 4),
                         round(float(ev.lexical[i, j]), 4), factor[i]])
        clip_score = float(np.clip(ev.cosine[i, j], 0.0, 1.0))
        clips = tuple(Clip(sources[k].id, a - tracks[k].offset, b - tracks[k].offset, clip_score)
                      for k, (a, b) in chosen[i])
        placements = _placements(ev, i, alts, float(sol.marginal[i, j]), tracks, targets[i], sources, opts)
        out.append(BeatAlignment(beat.index, beat.text, targets[i], conf, clips,
                                 placements[:opts.alternatives], conf < opts.review_below))
    return out


def _placements(ev: Evidence, i: int, alts: list[tuple[int, float]], best: float, tracks: list[Track],
                target: float, sources: Sequence[AlignSource], opts: AlignOptions) -> tuple[AlternativePlacement, ...]:
    """Clips for each alternative window (cut as the beat's own would be, ignoring other beats' footage);
    score: its share of exp(marginal) among the chosen placement and the alternatives."""
    if not alts:
        return ()
    rules = opts.pick_rules()
    weights = np.exp(np.array([0.0] + [m - best for _, m in alts], dtype=np.float64))
    share = weights / weights.sum()
    out = []
    for (w, _m), sc in zip(alts, share[1:], strict=True):
        win = ev.windows[w]
        zone = _zone(ev.units, win.first, win.last, tracks, opts.context_pad, opts.snap)
        anchor = _anchor(ev, i, win.first, win.last)
        pieces = pick(candidate_pieces(tracks, zone, [], rules), anchor, target, rules)
        clips = tuple(Clip(sources[k].id, a - tracks[k].offset, b - tracks[k].offset,
                           float(np.clip(ev.cosine[i, w], 0.0, 1.0))) for k, (a, b) in pieces)
        if clips:
            out.append(AlternativePlacement(clips, float(sc)))
    return tuple(out)


def _fallback(script: Script, tracks: list[Track], targets: list[float], sources: Sequence[AlignSource],
              opts: AlignOptions) -> list[BeatAlignment]:
    """No dialogue: beats in order, each over its share of the footage, low confidence."""
    rules = opts.pick_rules()
    used: list[Interval] = []
    out = []
    for beat, target, (a, b) in zip(script.beats, targets, spread(tracks, targets), strict=True):
        chosen = pick(candidate_pieces(tracks, (a, b), used, rules), (a + b) / 2, min(target, b - a), rules)
        used.extend(span for _, span in chosen)
        clips = tuple(Clip(sources[k].id, s - tracks[k].offset, e - tracks[k].offset, 0.0) for k, (s, e) in chosen)
        out.append(BeatAlignment(beat.index, beat.text, target, _FALLBACK_CONFIDENCE, clips, needs_review=True))
    return out
