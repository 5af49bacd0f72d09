"""Private: the beat x window score matrix, the order-constrained dynamic programme and confidence.

Each beat's window scores are z-scored over the windows of each scale (so a beat whose wording is far
from the dialogue still finds its best place, and windows of different sizes compete on one scale);
the programme then picks one window per beat, in script order.
"""

from __future__ import annotations

import numpy as np

from media._align_text import Window


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
    one ends (free), anything else (overlap, going back) costs ``back_penalty``.

    O(beats x (windows + units)): the best earlier-ending predecessor is a prefix maximum over units.
    """
    n_beats, _n_win = score.shape
    first = np.array([w.first for w in windows], dtype=np.int64)
    last = np.array([w.last for w in windows], dtype=np.int64)
    best = score[0].astype(np.float64).copy()
    back: list[np.ndarray] = []
    for i in range(1, n_beats):
        # ends[k] = best total of a window whose last unit is k (and its index); prefix max over k
        ends = np.full(n_units, -np.inf)
        ends_arg = np.full(n_units, -1, dtype=np.int64)
        order = np.lexsort((best, last))  # within one last unit, the best comes last and wins
        ends[last[order]] = best[order]
        ends_arg[last[order]] = order
        pm, pm_arg = _prefix_max(ends, ends_arg)
        fwd = np.where(first > 0, pm[np.maximum(first - 1, 0)], -np.inf)
        fwd_arg = np.where(first > 0, pm_arg[np.maximum(first - 1, 0)], -1)
        g = int(np.argmax(best))
        anywhere = best[g] - back_penalty
        use_back = anywhere > fwd
        back.append(np.where(use_back, g, fwd_arg))
        best = np.where(use_back, anywhere, fwd) + score[i]
    path = [int(np.argmax(best))]
    for prev in reversed(back):
        path.append(int(prev[path[-1]]))
    return path[::-1]


def _prefix_max(values: np.ndarray, args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pm = np.maximum.accumulate(values)
    idx = np.arange(values.size)
    is_new = np.concatenate(([True], values[1:] > pm[:-1]))
    pos = np.maximum.accumulate(np.where(is_new, idx, 0))
    return pm, args[pos]


def runner_up(score_row: np.ndarray, first: np.ndarray, last: np.ndarray, chosen: Window, lo: int, hi: int,
              back_penalty: float) -> float:
    """The beat's best other placement in the programme's own terms: a window that does not overlap the
    chosen one and fits between the neighbours' windows (units ``lo..hi``) scores as it is; anywhere else
    it pays ``back_penalty`` (it breaks the order)."""
    apart = (last < chosen.first) | (first > chosen.last)
    fits = apart & (first >= lo) & (last <= hi)
    best = float(score_row[fits].max()) if fits.any() else -np.inf
    if apart.any():
        best = max(best, float(score_row[apart].max()) - back_penalty)
    return best if np.isfinite(best) else float(score_row.min())


def confidence(peak: float, second: float, cosine: float, lexical: float) -> float:
    """Calibrated [0, 1]: a clear margin over the best placement elsewhere and a high absolute similarity."""
    margin = 1.0 / (1.0 + np.exp(-2.5 * (peak - second - 0.4)))
    absolute = float(np.clip((max(cosine, 0.0) - 0.15) / 0.35 + 0.5 * lexical, 0.0, 1.0))
    return float(np.clip(np.sqrt(margin * absolute), 0.0, 1.0))
