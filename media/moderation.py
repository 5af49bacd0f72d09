"""Static overlay detection (watermarks, channel logos, "sample" text) from the one-pass analysis.

    from media.analysis import analyse_video
    result = analyse_video("movie.mp4")          # the overlay scan rides the same decode pass
    for region in result.overlays.regions: print(region.box, region.ranges, region.opacity)

An overlay keeps its pixels while the picture under it changes. Over a time span that holds
several scenes the temporal mean of the frames keeps the overlay's edges sharp while the
scene's own edges average out, so the *edge coherence* ``|grad(mean)| / mean(|grad|)`` is near 1
on the overlay and well below 1 elsewhere. Spans are the whole source, its halves, quarters and
eighths (and the same shifted by half a span), so an overlay that appears mid-video is found in
the spans it covers; its time ranges come from matching each window's mean gradients against the
region's template. Spans without enough scene changes (a static single shot) are not evidence:
a logo cannot be told from a painting on the wall there. Opacity is estimated from how much of
the picture's temporal variation survives under the overlay.

Recap never removes, blurs or hides a watermark: this module only informs a human reviewer.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import cv2
import numpy as np

from media._overlay_scan import OverlayScan, Window
from media.types import JSON

__all__ = ["OverlayOptions", "OverlayRegion", "OverlayReport", "OverlayScan", "detect_overlays", "new_overlay_scan"]


@dataclass(frozen=True, slots=True)
class OverlayOptions:
    """``sample_rate``: sampled frames per second; ``window_seconds``: the shortest time window;
    ``coherence``: edge coherence a pixel needs; ``min_edge``: mean-image gradient it needs (grey
    levels); ``min_scenes``: scene changes a span needs to count; ``max_static``: share of the
    frame's edge pixels that may look static before a span is refused as a still picture;
    ``min_motion``: temporal spread of luma around a region (grey levels), so the picture
    demonstrably changed there; ``min_presence``: share of the duration (at most
    ``max_presence_seconds``) a region must be present, over windows holding at least
    ``min_scenes`` scene changes; ``min_confidence``: weakest region reported."""

    sample_rate: float = 3.0
    window_seconds: float = 4.0
    max_windows: int = 64
    coherence: float = 0.93
    min_edge: float = 16.0
    min_scenes: int = 5
    max_static: float = 0.15
    min_motion: float = 20.0
    min_presence: float = 0.0
    max_presence_seconds: float = 120.0
    min_confidence: float = 0.3

    def __post_init__(self) -> None:
        if not 0.2 <= self.sample_rate <= 30:
            raise ValueError("sample_rate must be in [0.2, 30] per second")
        if not 0.5 <= self.window_seconds <= 600:
            raise ValueError("window_seconds must be in [0.5, 600]")
        if not 4 <= self.max_windows <= 1024:
            raise ValueError("max_windows must be in [4, 1024]")
        if not 0 < self.coherence < 1:
            raise ValueError("coherence must be in (0, 1)")
        if self.min_scenes < 1:
            raise ValueError("min_scenes must be at least 1")
        if not 0 < self.max_static <= 1:
            raise ValueError("max_static must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class OverlayRegion:
    """A static overlay: ``box`` (x, y, width, height) normalised to the displayed frame (0-1),
    ``ranges`` the (start, end) seconds it is present, ``opacity`` 0-1, ``confidence`` 0-1 and a
    PNG crop of the temporal mean picture around it as evidence."""

    box: tuple[float, float, float, float]
    ranges: tuple[tuple[float, float], ...]
    opacity: float
    confidence: float
    crop_png: bytes = field(repr=False, default=b"")

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    def to_json(self) -> JSON:
        return {"box": [round(v, 4) for v in self.box], "ranges": [[round(a, 2), round(b, 2)] for a, b in self.ranges],
                "opacity": round(self.opacity, 3), "confidence": round(self.confidence, 3),
                "crop_png": base64.b64encode(self.crop_png).decode("ascii")}

    @classmethod
    def from_json(cls, data: JSON) -> OverlayRegion:
        x, y, w, h = (float(v) for v in data["box"])
        return cls((x, y, w, h), tuple((float(a), float(b)) for a, b in data.get("ranges", [])),
                   float(data["opacity"]), float(data["confidence"]), base64.b64decode(data.get("crop_png", "")))


@dataclass(frozen=True, slots=True)
class OverlayReport:
    """The regions of one source, and which of its seconds could be checked at all."""

    regions: tuple[OverlayRegion, ...]
    duration: float
    checked: tuple[tuple[float, float], ...]
    samples: int

    @property
    def checked_share(self) -> float:
        return min(1.0, sum(b - a for a, b in self.checked) / self.duration) if self.duration > 0 else 0.0

    def to_json(self) -> JSON:
        return {"version": 1, "regions": [r.to_json() for r in self.regions], "duration": round(self.duration, 3),
                "checked": [[round(a, 2), round(b, 2)] for a, b in self.checked], "samples": self.samples,
                "checked_share": round(self.checked_share, 3)}

    @classmethod
    def from_json(cls, data: JSON) -> OverlayReport:
        return cls(tuple(OverlayRegion.from_json(r) for r in data.get("regions", [])), float(data.get("duration", 0)),
                   tuple((float(a), float(b)) for a, b in data.get("checked", [])), int(data.get("samples", 0)))


def new_overlay_scan(options: OverlayOptions | None = None, rotation: int = 0) -> OverlayScan:
    """The frame consumer to add to the analysis pass."""
    o = options or OverlayOptions()
    return OverlayScan(o.sample_rate, o.window_seconds, o.max_windows, rotation % 360)


@dataclass(frozen=True, slots=True)
class _Span:
    first: int
    last: int  # exclusive
    mean: np.ndarray
    std: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    coherence: np.ndarray
    edge: np.ndarray
    scenes: int


@dataclass(slots=True)
class _Found:
    box: tuple[int, int, int, int]
    mask: np.ndarray
    span: _Span
    score: float


def detect_overlays(scan: OverlayScan, duration: float, options: OverlayOptions | None = None) -> OverlayReport:
    """The static overlays the scan saw.

    Args:
        scan: the consumer that was fed the decode pass.
        duration: the source's duration in seconds (for the last time range).
        options: thresholds (the sampling ones must match those the scan was made with).
    """
    o = options or OverlayOptions()
    windows = [w for w in scan.windows if w.samples > 0]
    if not windows:
        return OverlayReport((), duration, (), 0)
    rot = scan.rotation // 90
    spans = [s for s in (_span(windows, a, b, rot) for a, b in _span_bounds(len(windows))) if s is not None]
    informative = [s for s in spans if s.scenes >= o.min_scenes and _static_share(s, o) <= o.max_static]
    found: list[_Found] = []
    for span in informative:
        for f in _components(span, o):
            _keep_best(found, f)
    checked = _merge_ranges([(windows[s.first].start, min(duration, windows[s.last - 1].end)) for s in informative])
    regions = [r for r in (_region(f, windows, rot, duration, o) for f in found) if r is not None]
    regions.sort(key=lambda r: -r.confidence)
    return OverlayReport(tuple(regions), duration, tuple(checked), sum(w.samples for w in windows))


def _span_bounds(n: int) -> list[tuple[int, int]]:
    """Whole, halves, quarters, eighths (at least two windows each), also shifted by half a span."""
    out = {(0, n)}
    length = n / 2
    while length >= 2:
        step = length / 2
        k = 0
        while k * step + length <= n + 1e-9:
            out.add((round(k * step), round(k * step + length)))
            k += 1
        length /= 2
    return sorted(out)


def _span(windows: list[Window], first: int, last: int, rot: int) -> _Span | None:
    part = windows[first:last]
    n = sum(w.samples for w in part)
    if n < 3:
        return None
    luma = np.sum([w.luma for w in part], axis=0, dtype=np.float64)
    sq = np.sum([w.luma_sq for w in part], axis=0, dtype=np.float64)
    grad = np.sum([w.grad for w in part], axis=0, dtype=np.float64)
    mean = luma / n
    std = np.sqrt(np.maximum(sq / n - mean * mean, 0.0))
    mean32: np.ndarray = np.asarray(mean, dtype=np.float32)
    gx = cv2.Sobel(mean32, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(mean32, cv2.CV_32F, 0, 1, ksize=3)
    edge = cv2.magnitude(gx, gy)
    coherence = edge / np.maximum(grad / n, 1.0).astype(np.float32)
    m = [np.ascontiguousarray(np.rot90(a, k=-rot)) for a in (mean32, std.astype(np.float32), gx, gy, coherence, edge)]
    return _Span(first, last, m[0], m[1], m[2], m[3], m[4], m[5], sum(w.scenes for w in part))


def _static_share(s: _Span, o: OverlayOptions) -> float:
    """Share of the picture's edge pixels that look static: near 1 for a still or a single static shot."""
    edges = s.edge >= o.min_edge
    total = int(edges.sum())
    if total == 0:
        return 1.0
    return float((edges & (s.coherence >= o.coherence)).sum()) / total


def _candidates(s: _Span, o: OverlayOptions) -> np.ndarray:
    mask = ((s.coherence >= o.coherence) & (s.edge >= o.min_edge)).astype(np.uint8)
    h, w = mask.shape
    # Letterbox and pillarbox borders are static lines across most of the frame, not overlays.
    for axis, length in ((1, w), (0, h)):
        for k in np.flatnonzero(mask.sum(axis=axis) > 0.5 * length):
            if axis == 1:
                mask[max(0, k - 2):k + 3, :] = 0
            else:
                mask[:, max(0, k - 2):k + 3] = 0
    mask[:2, :] = mask[-2:, :] = 0
    mask[:, :2] = mask[:, -2:] = 0
    return mask


def _components(s: _Span, o: OverlayOptions) -> list[_Found]:
    mask = _candidates(s, o)
    h, w = mask.shape
    size = max(3, round(min(h, w) / 30) | 1)
    joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out: list[_Found] = []
    for label in range(1, n):
        x, y, bw, bh, _ = (int(v) for v in stats[label])
        pixels = (labels == label) & (mask > 0)
        count = int(pixels.sum())
        if bw > 0.6 * w or bh > 0.6 * h or count < max(10, int(0.0015 * h * w)):
            continue
        if bw * bh < 0.001 * h * w or max(bw, bh) > 20 * min(bw, bh):
            continue
        score = float(s.coherence[pixels].mean()) * min(1.0, count / (0.01 * h * w) + 0.5)
        out.append(_Found((x, y, bw, bh), pixels[y:y + bh, x:x + bw], s, score))
    return out


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def _keep_best(found: list[_Found], f: _Found) -> None:
    """One entry per place: the span that shows it most clearly wins."""
    for i, g in enumerate(found):
        if _iou(f.box, g.box) >= 0.3:
            if f.score > g.score:
                found[i] = f
            return
    found.append(f)


def _region(f: _Found, windows: list[Window], rot: int, duration: float, o: OverlayOptions) -> OverlayRegion | None:
    x, y, bw, bh = f.box
    s = f.span
    tx, ty = s.gx[y:y + bh, x:x + bw] * f.mask, s.gy[y:y + bh, x:x + bw] * f.mask
    energy = float((tx * tx + ty * ty).sum())
    present: list[tuple[float, float]] = []
    scenes = 0
    for w in windows:
        mean = np.ascontiguousarray(np.rot90(w.luma / max(w.samples, 1), k=-rot))
        gx = cv2.Sobel(mean, cv2.CV_32F, 1, 0, ksize=3)[y:y + bh, x:x + bw] * f.mask
        gy = cv2.Sobel(mean, cv2.CV_32F, 0, 1, ksize=3)[y:y + bh, x:x + bw] * f.mask
        dot = float((gx * tx + gy * ty).sum())
        norm = float(np.sqrt((gx * gx + gy * gy).sum() * energy)) or 1.0
        if dot / norm >= 0.5 and dot / max(energy, 1e-9) >= 0.35:
            present.append((w.start, min(duration, w.end)))
            scenes += w.scenes
    ranges = _merge_ranges(present)
    seconds = sum(b - a for a, b in ranges)
    if seconds < min(o.min_presence * duration, o.max_presence_seconds) or scenes < o.min_scenes:
        return None
    opacity, around = _opacity(s, f.box)
    if around < o.min_motion:
        return None
    confidence = float(np.clip((f.score - o.coherence) / (1 - o.coherence), 0, 1)) * 0.6 + 0.4 * min(1, s.scenes / 8)
    if confidence < o.min_confidence:
        return None
    h, w = s.mean.shape
    return OverlayRegion((x / w, y / h, bw / w, bh / h), tuple(ranges), opacity, confidence, _crop(s.mean, f.box))


def _opacity(s: _Span, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """(1 - temporal spread left under the overlay / spread around it, the spread around it)."""
    x, y, bw, bh = box
    mx, my = max(2, bw // 2), max(2, bh // 2)
    outer = s.std[max(0, y - my):y + bh + my, max(0, x - mx):x + bw + mx].copy()
    inner = s.std[y:y + bh, x:x + bw]
    outer[min(my, y):min(my, y) + bh, min(mx, x):min(mx, x) + bw] = np.nan
    around = float(np.nanmedian(outer)) if np.isfinite(outer).any() else 0.0
    if around < 1.0:
        return 1.0, around
    return float(np.clip(1.0 - float(np.percentile(inner, 10)) / around, 0.0, 1.0)), around


def _crop(mean: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    x, y, bw, bh = box
    mx, my = max(2, bw // 4), max(2, bh // 4)
    part = np.clip(mean[max(0, y - my):y + bh + my, max(0, x - mx):x + bw + mx], 0, 255).astype(np.uint8)
    scale = max(1, min(4, 96 // max(part.shape)))
    if scale > 1:
        part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    ok, png = cv2.imencode(".png", part)
    return png.tobytes() if ok else b""


def _merge_ranges(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
