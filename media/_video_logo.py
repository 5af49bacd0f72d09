"""Static-logo scan statistics: per-pixel temporal stability of edges in the four corners (private).

Detection only, for the moderation workflow; nothing here alters a picture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from media.types import JSON

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
#: Canny thresholds on 8-bit luma at analysis size.
_CANNY_LOW, _CANNY_HIGH = 40, 120
#: A component spanning more than this share of its corner is a border line (letterbox), not a logo.
_MAX_SPAN = 0.8
#: A row or column whose pixels are this stable over more than this share of the frame is a border line.
_LINE_LEVEL, _LINE_SHARE = 0.35, 0.5


@dataclass(frozen=True, slots=True)
class LogoCandidate:
    """A box (normalised to the displayed frame, 0-1) whose edges stayed put while the picture changed."""

    corner: str
    x: float
    y: float
    width: float
    height: float
    score: float
    stability: float
    area: int

    def to_json(self) -> JSON:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: JSON) -> LogoCandidate:
        return cls(str(data["corner"]), float(data["x"]), float(data["y"]), float(data["width"]),
                   float(data["height"]), float(data["score"]), float(data["stability"]), int(data["area"]))


class LogoScan:
    """Accumulates edge presence per pixel over sampled grey frames."""

    def __init__(self, corner: float, min_stability: float, rotation: int = 0) -> None:
        self.corner = corner
        self.min_stability = min_stability
        self.rotation = rotation % 360
        self.samples = 0
        self._counts: np.ndarray | None = None

    def add(self, gray: np.ndarray) -> None:
        edges = cv2.Canny(gray, _CANNY_LOW, _CANNY_HIGH)
        if self._counts is None or self._counts.shape != edges.shape:
            self._counts = np.zeros(edges.shape, dtype=np.uint32)
            self.samples = 0
        self._counts += edges > 0
        self.samples += 1

    def stability(self) -> np.ndarray:
        """Share of samples in which each pixel was an edge, in display orientation."""
        if self._counts is None or self.samples == 0:
            return np.zeros((0, 0), dtype=np.float32)
        s = self._counts.astype(np.float32) / float(self.samples)
        return np.ascontiguousarray(np.rot90(s, k=-(self.rotation // 90)))

    def centre_static(self, stab: np.ndarray | None = None) -> float:
        """Share of the centre's edge pixels that are static: near 1 for a still picture."""
        s = self.stability() if stab is None else stab
        if s.size == 0:
            return 0.0
        h, w = s.shape
        centre = s[int(0.3 * h):int(0.7 * h) + 1, int(0.3 * w):int(0.7 * w) + 1]
        seen = centre[centre >= 0.1]
        return float(np.mean(seen >= self.min_stability)) if seen.size else 0.0

    def candidates(self, min_score: float) -> list[LogoCandidate]:
        s = self.stability()
        if s.size == 0:
            return []
        still = self.centre_static(s)
        s = _without_border_lines(s)
        h, w = s.shape
        ch, cw = max(4, int(self.corner * h)), max(4, int(self.corner * w))
        origins = {"top_left": (0, 0), "top_right": (0, w - cw), "bottom_left": (h - ch, 0),
                   "bottom_right": (h - ch, w - cw)}
        out: list[LogoCandidate] = []
        for name in CORNERS:
            y0, x0 = origins[name]
            found = _best_component(s[y0:y0 + ch, x0:x0 + cw], self.min_stability)
            if found is None:
                continue
            (bx, by, bw, bh), strength, area = found
            score = strength * (1.0 - still)
            if score >= min_score:
                out.append(LogoCandidate(name, (x0 + bx) / w, (y0 + by) / h, bw / w, bh / h, score, strength, area))
        return sorted(out, key=lambda c: -c.score)


def _without_border_lines(s: np.ndarray) -> np.ndarray:
    """Zero rows and columns that are edges across most of the frame (letterbox/pillarbox borders)."""
    out = s.copy()
    for axis in (1, 0):
        lines = np.flatnonzero((s >= _LINE_LEVEL).mean(axis=axis) > _LINE_SHARE)
        for k in lines:
            lo, hi = max(0, k - 2), k + 3
            if axis == 1:
                out[lo:hi, :] = 0
            else:
                out[:, lo:hi] = 0
    return out


def _best_component(region: np.ndarray, min_stability: float) -> tuple[tuple[int, int, int, int], float, int] | None:
    """The largest blob of stable edge pixels in ``region``: (box, mean stability, pixel count)."""
    stable = (region >= min_stability).astype(np.uint8)
    if not stable.any():
        return None
    joined = cv2.dilate(stable, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    rh, rw = region.shape
    best: tuple[tuple[int, int, int, int], float, int] | None = None
    for label in range(1, n):
        x, y, bw, bh, _ = (int(v) for v in stats[label])
        if bw > _MAX_SPAN * rw or bh > _MAX_SPAN * rh:
            continue
        pixels = (labels == label) & (stable > 0)
        count = int(pixels.sum())
        if count < max(6, int(0.002 * rh * rw)):
            continue
        if best is None or count > best[2]:
            best = ((x, y, bw, bh), float(region[pixels].mean()), count)
    return best
