"""Private: from a beat's matched speech region to clips on shot boundaries.

Times here are on the global timeline (sources laid end to end in the order given). A beat's clips
come from its *zone*: the matched speech plus a little context, snapped outward to a shot boundary
when one is close. Inside the zone, shots are taken outward from the anchor until the beat's target
duration is filled; footage already given to another beat and unusable ranges are never taken.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

Interval = tuple[float, float]

_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Track:
    """One source on the global timeline: its shots (global times, gapless) and blocked ranges."""

    index: int
    offset: float
    duration: float
    shots: tuple[Interval, ...]
    unusable: tuple[Interval, ...]

    @property
    def end(self) -> float:
        return self.offset + self.duration


@dataclass(frozen=True, slots=True)
class PickRules:
    snap: float
    min_clip: float
    max_overshoot: float


def make_track(index: int, offset: float, duration: float, shots: Sequence[Interval],
               unusable: Sequence[Interval]) -> Track:
    """Global shot list covering the whole source (gaps between detected shots become shots too)."""
    cuts = {0.0, duration}
    for s, e in shots:
        for t in (s, e):
            if 0.0 < t < duration:
                cuts.add(round(float(t), 6))
    edges = sorted(cuts)
    spans = tuple((offset + a, offset + b) for a, b in itertools.pairwise(edges) if b - a > _EPS)
    blocked = tuple(sorted((offset + max(0.0, a), offset + min(duration, b)) for a, b in unusable
                           if min(duration, b) - max(0.0, a) > _EPS))
    return Track(index, offset, duration, spans, blocked)


def subtract(span: Interval, blocked: Sequence[Interval]) -> list[Interval]:
    """``span`` minus every interval of ``blocked``."""
    parts = [span]
    for b0, b1 in blocked:
        nxt: list[Interval] = []
        for a0, a1 in parts:
            if b1 <= a0 or b0 >= a1:
                nxt.append((a0, a1))
                continue
            if b0 > a0:
                nxt.append((a0, b0))
            if b1 < a1:
                nxt.append((b1, a1))
        parts = nxt
    return parts


def candidate_pieces(tracks: Sequence[Track], zone: Interval, used: Sequence[Interval],
                     rules: PickRules) -> list[tuple[int, Interval]]:
    """Usable, unused parts of the shots inside ``zone``, split at shot boundaries."""
    z0, z1 = zone
    out: list[tuple[int, Interval]] = []
    for tr in tracks:
        if tr.end <= z0 or tr.offset >= z1:
            continue
        for s, e in tr.shots:
            if e <= z0 or s >= z1:
                continue
            for p0, p1 in subtract((max(s, z0), min(e, z1)), [*tr.unusable, *used]):
                if p1 - p0 >= rules.min_clip:
                    out.append((tr.index, (p0, p1)))
    out.sort(key=lambda x: x[1][0])
    return out


def snap_edge(t: float, lo: float, hi: float, track: Track) -> float | None:
    """The shot boundary in [lo, hi] nearest to ``t`` (a scene cut usually sits where its speech stops)."""
    best: float | None = None
    for s, _ in track.shots[1:]:
        if lo <= s <= hi and (best is None or abs(s - t) < abs(best - t)):
            best = s
    return best


def pick(pieces: list[tuple[int, Interval]], anchor: float, target: float,
         rules: PickRules) -> list[tuple[int, Interval]]:
    """Pieces outward from the one nearest ``anchor`` until ``target`` seconds; trim a long overshoot."""
    if not pieces:
        return []
    dist = [0.0 if p0 <= anchor <= p1 else min(abs(anchor - p0), abs(anchor - p1)) for _, (p0, p1) in pieces]
    lo = hi = min(range(len(pieces)), key=dist.__getitem__)
    chosen = [lo]
    total = pieces[lo][1][1] - pieces[lo][1][0]
    while total < target and (lo > 0 or hi < len(pieces) - 1):
        left = dist[lo - 1] if lo > 0 else float("inf")
        right = dist[hi + 1] if hi < len(pieces) - 1 else float("inf")
        if left < right:
            lo -= 1
            chosen.append(lo)
        else:
            hi += 1
            chosen.append(hi)
        p0, p1 = pieces[chosen[-1]][1]
        total += p1 - p0
    over = total - target
    if over > rules.max_overshoot:
        chosen_pieces = _trim_far_end(pieces, chosen, anchor, over, rules.min_clip)
    else:
        chosen_pieces = [pieces[k] for k in chosen]
    return merge(sorted(chosen_pieces, key=lambda x: x[1][0]))


def _trim_far_end(pieces: list[tuple[int, Interval]], chosen: list[int], anchor: float, over: float,
                  min_clip: float) -> list[tuple[int, Interval]]:
    out = [pieces[k] for k in chosen]
    src, (p0, p1) = out[-1]
    if len(out) == 1:  # one long shot: keep the part centred on the anchor
        keep = max(p1 - p0 - over, min_clip)
        start = min(max(anchor - keep / 2, p0), p1 - keep)
        out[-1] = (src, (start, start + keep))
        return out
    cut = min(over, p1 - p0 - min_clip)
    if cut > 0:  # trim the side away from the anchor
        out[-1] = (src, (p0 + cut, p1)) if p1 <= anchor else (src, (p0, p1 - cut))
    return out


def merge(pieces: list[tuple[int, Interval]]) -> list[tuple[int, Interval]]:
    """Join touching pieces of the same source into one clip."""
    out: list[tuple[int, Interval]] = []
    for src, (a, b) in pieces:
        if out and out[-1][0] == src and abs(out[-1][1][1] - a) < 1e-3:
            out[-1] = (src, (out[-1][1][0], b))
        else:
            out.append((src, (a, b)))
    return out


def spread(tracks: Sequence[Track], targets: Sequence[float]) -> list[Interval]:
    """No-dialogue fallback: beat i gets its share (by target duration) of the global timeline, in order."""
    start = tracks[0].offset if tracks else 0.0
    end = tracks[-1].end if tracks else 0.0
    weights = [max(t, 1e-3) for t in targets]
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        a = start + (end - start) * acc / total
        acc += w
        out.append((a, start + (end - start) * acc / total))
    return out
