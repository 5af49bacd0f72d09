"""Private: the beat x window score matrix, the order-constrained dynamic programme and confidence.

Each beat's window scores are z-scored over the windows of each scale (so a beat whose wording is far
from the dialogue still finds its best place, and windows of different sizes compete on one scale);
the programme then picks one window per beat, in script order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from media._align_text import Window

_EPS = 1e-6


def zscore_rows(x: np.ndarray) -> np.ndarray:
    """Standardise each row (one beat) over its columns."""
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return np.asarray((x - mean) / np.maximum(std, 1e-3), dtype=np.float32)


def zscore_by_group(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standardise each row within each column group (windows of one scale compete with each other)."""
    out = np.zeros_like(x, dtype=np.float32)
    for g in np.unique(groups):
        cols = groups == g
        out[:, cols] = zscore_rows(x[:, cols]) if cols.sum() > 1 else 0.0
    return out


def combine(sem: np.ndarray, lex: np.ndarray, lexical_weight: float, scales: np.ndarray) -> np.ndarray:
    """Semantic plus weighted lexical evidence, each z-scored per beat within each window scale.

    Per scale, because long (pooled) windows have systematically higher cosines with any text: scored
    together, they would win every weak beat.
    """
    score = zscore_by_group(sem, scales)
    if lexical_weight > 0 and lex.size and float(lex.max()) > 0:
        score = score + lexical_weight * zscore_by_group(lex, scales)
    return np.asarray(score, dtype=np.float32)


def position_prior(windows: list[Window], unit_pos: np.ndarray, expected: np.ndarray,
                   weight: float, sigma: float) -> np.ndarray:
    """A weak preference for beat i near its share of the script along the timeline (both in [0, 1])."""
    centers = np.array([(unit_pos[w.first] + unit_pos[w.last]) / 2 for w in windows], dtype=np.float64)
    if weight <= 0 or centers.size == 0:
        return np.zeros((expected.size, centers.size), dtype=np.float32)
    d = (centers[None, :] - expected[:, None]) / sigma
    return np.asarray(-weight * d * d, dtype=np.float32)


def solve_order(score: np.ndarray, windows: list[Window], n_units: int, back_penalty: float) -> list[int]:
    """One window per beat maximising the summed score; each beat's window starts after the previous
    one ends (free), anything else (overlap, going back) costs ``back_penalty`` (``inf``: never)."""
    del n_units
    starts = np.array([w.first for w in windows], dtype=np.float64)
    ends = np.array([w.last + 1 for w in windows], dtype=np.float64)
    back = np.full(score.shape[0], back_penalty, dtype=np.float64)
    return solve(score, starts, ends, back).path


@dataclass(frozen=True, slots=True)
class Solution:
    """The best path (one window per beat) and the max-marginals: ``marginal[i, w]`` is the best total
    of any admissible path that puts beat i on window w (so ``marginal[i, path[i]]`` is the optimum)."""

    path: list[int]
    marginal: np.ndarray


def solve(score: np.ndarray, starts: np.ndarray, ends: np.ndarray, back: np.ndarray,
          boundaries: np.ndarray | None = None, same_scene: float = 0.0) -> Solution:
    """Order-constrained programme over windows given by time spans.

    Beat i's window must start at or after beat i-1's window ends; otherwise (overlap, going back) the
    transition costs ``back[i]`` (``inf`` forbids it: the default, a recap follows the film). Two
    consecutive beats with no scene boundary (sorted ``boundaries``, times) between their windows pay
    ``same_scene``: a recap's next paragraph usually tells the next scene. Forward and backward passes
    give the max-marginals; O(beats x windows log windows).
    """
    bnd = np.asarray(boundaries if boundaries is not None else [], dtype=np.float64)
    use_scene = same_scene > 0 and bnd.size > 0
    n_beats, n_win = score.shape
    s64 = score.astype(np.float64)
    by_end = np.argsort(ends, kind="stable")
    sorted_ends = ends[by_end]
    by_start = np.argsort(starts, kind="stable")
    sorted_starts = starts[by_start]
    # predecessor of w: windows whose end <= start[w]; successor: windows whose start >= end[w]
    n_pred = np.searchsorted(sorted_ends, starts + _EPS, side="right")
    first_succ = np.searchsorted(sorted_starts, ends - _EPS, side="left")
    if use_scene:  # predecessors ending before the last boundary <= start; successors after the next one
        k = np.searchsorted(bnd, starts + _EPS, side="right") - 1
        last_b = np.where(k >= 0, bnd[np.maximum(k, 0)], -np.inf)
        n_pred_b = np.searchsorted(sorted_ends, last_b + _EPS, side="right")
        k2 = np.searchsorted(bnd, ends - _EPS, side="left")
        next_b = np.where(k2 < bnd.size, bnd[np.minimum(k2, bnd.size - 1)], np.inf)
        first_succ_b = np.searchsorted(sorted_starts, next_b - _EPS, side="left")
    fwd = np.empty((n_beats, n_win))
    arg = np.full((n_beats, n_win), -1, dtype=np.int64)
    fwd[0] = s64[0]
    for i in range(1, n_beats):
        vals = fwd[i - 1][by_end]
        pm, pm_arg = _prefix_max(vals, by_end)
        ok = n_pred > 0
        best = np.where(ok, pm[np.maximum(n_pred - 1, 0)], -np.inf)
        best_arg = np.where(ok, pm_arg[np.maximum(n_pred - 1, 0)], -1)
        if use_scene:
            best = best - same_scene
            ok_b = n_pred_b > 0
            across = np.where(ok_b, pm[np.maximum(n_pred_b - 1, 0)], -np.inf)
            take = across >= best
            best = np.where(take, across, best)
            best_arg = np.where(take, pm_arg[np.maximum(n_pred_b - 1, 0)], best_arg)
        if np.isfinite(back[i]):
            g = int(np.argmax(fwd[i - 1]))
            anywhere = fwd[i - 1, g] - back[i]
            use = anywhere > best
            best = np.where(use, anywhere, best)
            best_arg = np.where(use, g, best_arg)
        fwd[i] = best + s64[i]
        arg[i] = best_arg
    bwd = np.empty((n_beats, n_win))
    bwd[-1] = s64[-1]
    for i in range(n_beats - 2, -1, -1):
        vals = bwd[i + 1][by_start]
        sm = np.maximum.accumulate(vals[::-1])[::-1]
        ok = first_succ < n_win
        best = np.where(ok, sm[np.minimum(first_succ, n_win - 1)], -np.inf)
        if use_scene:
            ok_b = first_succ_b < n_win
            best = np.maximum(best - same_scene, np.where(ok_b, sm[np.minimum(first_succ_b, n_win - 1)], -np.inf))
        if np.isfinite(back[i + 1]):
            best = np.maximum(best, float(bwd[i + 1].max()) - back[i + 1])
        bwd[i] = best + s64[i]
    marginal = fwd + bwd - s64
    if not np.isfinite(fwd[-1]).any():  # no admissible path (more beats than windows): allow overlaps
        return solve(score, starts, ends, np.where(np.isfinite(back), back, 1e6), boundaries, same_scene)
    path = [int(np.argmax(fwd[-1]))]
    for i in range(n_beats - 1, 0, -1):
        path.append(int(arg[i, path[-1]]))
    return Solution(path[::-1], marginal)


def alternatives(marginal: np.ndarray, starts: np.ndarray, ends: np.ndarray, chosen: int, k: int
                 ) -> list[tuple[int, float]]:
    """The beat's ``k`` best other placements by max-marginal (the best whole path through each), each
    apart in time from the chosen window and from the others listed."""
    taken = [(float(starts[chosen]), float(ends[chosen]))]
    out: list[tuple[int, float]] = []
    for w in np.argsort(-marginal, kind="stable"):
        if not np.isfinite(marginal[w]):
            break
        a, b = float(starts[w]), float(ends[w])
        if any(a < t1 and b > t0 for t0, t1 in taken):
            continue
        out.append((int(w), float(marginal[w])))
        taken.append((a, b))
        if len(out) >= k:
            break
    return out


def confidence(margin: float, cosine: float, lexical: float) -> float:
    """Probability that the placement is right, from the margin of the best whole path over the best
    path that puts the beat elsewhere (context from every other beat) and the absolute similarity.
    A logistic model fitted on the tuned split of ``eval/`` (see docs/alignment.md, calibration)."""
    z = _CAL[0] + _CAL[1] * min(margin, 8.0) + _CAL[2] * cosine + _CAL[3] * lexical
    return float(1.0 / (1.0 + np.exp(-z)))


_CAL = (-1.0, 0.8, 3.0, 1.0)


def _prefix_max(values: np.ndarray, args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pm = np.maximum.accumulate(values)
    idx = np.arange(values.size)
    is_new = np.concatenate(([True], values[1:] > pm[:-1]))
    pos = np.maximum.accumulate(np.where(is_new, idx, 0))
    return pm, args[pos]
