"""Per-frame picture statistics, thumbnail candidates and a static-logo scan (``frames.json``).

    from media.frames import FrameStatsConsumer
    stats = FrameStatsConsumer(rotation=info.video.rotation)   # feed it from media.decode
    report = stats.report(shots)            # FrameReport; report.to_json() is frames.json

A few frames per second (``sample_rate``) are measured: sharpness (variance of the
Laplacian), contrast (standard deviation of luma) and exposure (mean luma, 0-255).
The best-scored samples of each shot become thumbnail candidates. The logo scan
counts, per pixel, how often an edge is present across the samples: a watermark
or channel logo keeps its edges while the picture under it changes, so corners
holding pixels far more stable than the centre of the frame become candidate
boxes with a score. Detection only: nothing here removes or alters a logo.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from media._video_logo import LogoCandidate, LogoScan
from media.types import JSON, Shot

__all__ = ["FrameReport", "FrameStatsConsumer", "FrameStatsOptions", "LogoCandidate", "ThumbnailCandidate",
           "thumbnail_scores"]

_COLUMNS = ("time", "frame", "sharpness", "contrast", "exposure")


@dataclass(frozen=True, slots=True)
class FrameStatsOptions:
    """``sample_rate``: measured frames per second; ``thumbnails_per_shot``: candidates kept per shot;
    ``logo_corner``: share of width and height that makes a corner; ``logo_min_stability``: share of
    samples in which a pixel must be an edge to count as static; ``logo_min_score``: weakest candidate kept."""

    sample_rate: float = 2.0
    thumbnails_per_shot: int = 3
    logo_corner: float = 0.3
    logo_min_stability: float = 0.7
    logo_min_score: float = 0.3
    logo_min_samples: int = 10

    def __post_init__(self) -> None:
        if not 0.05 <= self.sample_rate <= 60:
            raise ValueError("sample_rate must be in [0.05, 60] per second")
        if not 0 <= self.thumbnails_per_shot <= 20:
            raise ValueError("thumbnails_per_shot must be in [0, 20]")
        if not 0.05 <= self.logo_corner <= 0.5:
            raise ValueError("logo_corner must be in [0.05, 0.5]")
        if not 0 < self.logo_min_stability <= 1:
            raise ValueError("logo_min_stability must be in (0, 1]")
        if not 0 <= self.logo_min_score <= 1:
            raise ValueError("logo_min_score must be in [0, 1]")
        if self.logo_min_samples < 2:
            raise ValueError("logo_min_samples must be at least 2")


@dataclass(frozen=True, slots=True)
class ThumbnailCandidate:
    shot: int
    time: float
    frame: int
    score: float

    def to_json(self) -> JSON:
        return {"shot": self.shot, "time": round(self.time, 4), "frame": self.frame, "score": round(self.score, 4)}

    @classmethod
    def from_json(cls, data: JSON) -> ThumbnailCandidate:
        return cls(int(data["shot"]), float(data["time"]), int(data["frame"]), float(data["score"]))


@dataclass(frozen=True, slots=True)
class FrameReport:
    """Sampled statistics (column lists), thumbnail candidates and logo candidates."""

    sample_rate: float
    samples: dict[str, list[float]]
    thumbnails: tuple[ThumbnailCandidate, ...]
    logos: tuple[LogoCandidate, ...]
    logo_samples: int
    centre_static: float

    def to_json(self) -> JSON:
        return {"version": 1, "sample_rate": self.sample_rate, "samples": self.samples,
                "thumbnails": [t.to_json() for t in self.thumbnails], "logos": [g.to_json() for g in self.logos],
                "logo_samples": self.logo_samples, "centre_static": round(self.centre_static, 4)}

    @classmethod
    def from_json(cls, data: JSON) -> FrameReport:
        samples = {k: [float(v) for v in data.get("samples", {}).get(k, [])] for k in _COLUMNS}
        return cls(float(data["sample_rate"]), samples,
                   tuple(ThumbnailCandidate.from_json(t) for t in data.get("thumbnails", [])),
                   tuple(LogoCandidate.from_json(g) for g in data.get("logos", [])),
                   int(data.get("logo_samples", 0)), float(data.get("centre_static", 0.0)))


class FrameStatsConsumer:
    """A :class:`media.decode.FrameConsumer` measuring ``sample_rate`` frames per second.

    ``rotation`` (clockwise degrees, from the probe) turns logo boxes into display coordinates.
    """

    def __init__(self, options: FrameStatsOptions | None = None, rotation: int = 0) -> None:
        self.options = options or FrameStatsOptions()
        self._period = 1.0 / self.options.sample_rate
        self._next = 0.0
        self._cols = {k: array("d") for k in _COLUMNS}
        self._logo = LogoScan(self.options.logo_corner, self.options.logo_min_stability, rotation)
        self._finished = False

    def consume(self, frame_index: int, time: float, image: np.ndarray) -> None:
        if time + 1e-6 < self._next:
            return
        self._next = max(self._next + self._period, time + 0.5 * self._period)
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        mean, std = cv2.meanStdDev(gray)
        _, lap_std = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S, ksize=1))
        exposure = float(mean[0, 0])
        for key, value in zip(_COLUMNS, (time, frame_index, float(lap_std[0, 0]) ** 2, float(std[0, 0]), exposure),
                              strict=True):
            self._cols[key].append(value)
        if exposure >= 8.0:  # black frames (fades, credits gaps) carry no logo evidence
            self._logo.add(gray)

    def finish(self) -> None:
        self._finished = True

    def report(self, shots: Sequence[Shot] = ()) -> FrameReport:
        """The :class:`FrameReport`; thumbnails are chosen inside ``shots`` (none when empty)."""
        opts = self.options
        logos = self._logo.candidates(opts.logo_min_score) if self._logo.samples >= opts.logo_min_samples else []
        samples = {k: [round(v, 4) for v in col] for k, col in self._cols.items()}
        return FrameReport(sample_rate=opts.sample_rate, samples=samples,
                           thumbnails=tuple(self._thumbnails(shots)), logos=tuple(logos),
                           logo_samples=self._logo.samples, centre_static=self._logo.centre_static())

    def _thumbnails(self, shots: Sequence[Shot]) -> list[ThumbnailCandidate]:
        k = self.options.thumbnails_per_shot
        if not shots or k == 0 or not self._cols["time"]:
            return []
        times = np.asarray(self._cols["time"])
        frames = np.asarray(self._cols["frame"], dtype=np.int64)
        score = thumbnail_scores(np.asarray(self._cols["sharpness"]), np.asarray(self._cols["contrast"]),
                                 np.asarray(self._cols["exposure"]))
        out: list[ThumbnailCandidate] = []
        for i, shot in enumerate(shots):
            inside = np.flatnonzero((frames >= shot.start_frame) & (frames < shot.end_frame))
            # Keep away from the shot's edges, where fades and motion blur live.
            margin = 0.1 * (shot.end - shot.start)
            core = inside[(times[inside] >= shot.start + margin) & (times[inside] <= shot.end - margin)]
            pick = core if core.size else inside
            for j in pick[np.argsort(-score[pick], kind="stable")][:k]:
                if score[j] > 0:
                    out.append(ThumbnailCandidate(i, float(times[j]), int(frames[j]), float(score[j])))
        return out


def thumbnail_scores(sharpness: np.ndarray, contrast: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Score in [0, 1]: sharp, contrasted, neither dark nor blown out (relative to the whole video)."""
    if sharpness.size == 0:
        return np.zeros(0)
    sharp = np.log1p(sharpness)
    sharp = sharp / max(float(sharp.max()), 1e-9)
    contr = np.clip(contrast / 64.0, 0.0, 1.0)
    expo = np.clip(1.0 - np.abs(exposure - 118.0) / 100.0, 0.0, 1.0)
    return np.asarray(sharp * (0.4 + 0.6 * contr) * expo, dtype=np.float64)
