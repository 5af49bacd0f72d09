"""Shot detection with PySceneDetect's detectors, fed from the single decode pass.

    from media.shots import ShotOptions, detect_shots
    shots = detect_shots("movie.mp4", ShotOptions(detector="adaptive", min_shot_length=0.5))
    print([(s.start, s.end) for s in shots])

Shots cover the whole video without gaps: ``shots[i].end_frame == shots[i+1].start_frame``
(end frames are exclusive) and the last shot ends at the end of the last frame.
Detectors: ``adaptive`` (default; rolling-average content score, robust to camera
motion), ``content`` (fixed HSV threshold), ``threshold`` (fades to black),
``histogram`` and ``hash``. ``fades=True`` runs fade detectors beside the chosen one:
a fade through black then becomes a black shot of its own, cut where the picture
reaches black and where it comes back.
"""

from __future__ import annotations

import bisect
import itertools
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scenedetect import FrameTimecode, HashDetector, HistogramDetector, SceneDetector, ThresholdDetector

from media._video_detectors import FastAdaptiveDetector, FastContentDetector
from media.decode import DecodeOptions, decode_frames
from media.probe import probe
from media.types import CancelFn, ProgressFn, Shot

__all__ = ["DETECTORS", "ShotConsumer", "ShotOptions", "detect_shots", "shots_from_cuts"]

#: Detector names and their default threshold (the value ``threshold=None`` means).
DETECTORS: dict[str, float] = {"adaptive": 3.0, "content": 27.0, "threshold": 12.0, "histogram": 0.20,
                               "hash": 0.35}


@dataclass(frozen=True, slots=True)
class ShotOptions:
    """Shot detection settings.

    ``detector``: one of :data:`DETECTORS`; ``threshold``: its sensitivity (None: the default;
    for ``adaptive`` the ratio to the rolling average); ``min_shot_length``: seconds, no cut
    closer than this to the previous one; ``fades``: also cut in fades through black;
    ``fade_threshold``: mean 8-bit intensity under which a frame counts as black;
    ``min_content_val``: adaptive only, the smallest content change that may cut;
    ``luma_only``: content/adaptive compare brightness only (for black-and-white films).
    """

    detector: str = "adaptive"
    threshold: float | None = None
    min_shot_length: float = 0.5
    fades: bool = False
    fade_threshold: float = 12.0
    min_content_val: float = 15.0
    luma_only: bool = False

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {sorted(DETECTORS)}")
        if self.threshold is not None and not 0 < self.threshold <= 255:
            raise ValueError("threshold must be in (0, 255]")
        if self.detector in ("histogram", "hash") and self.threshold is not None and self.threshold > 1:
            raise ValueError(f"threshold for {self.detector} must be in (0, 1]")
        if not 0 <= self.min_shot_length <= 600:
            raise ValueError("min_shot_length must be in [0, 600] seconds")
        if not 0 < self.fade_threshold < 255:
            raise ValueError("fade_threshold must be in (0, 255)")
        if not 0 <= self.min_content_val <= 255:
            raise ValueError("min_content_val must be in [0, 255]")

    def min_frames(self, fps: float) -> int:
        """The minimum shot length in whole frames at ``fps``."""
        return max(1, round(self.min_shot_length * fps)) if self.min_shot_length > 0 else 0

    def build(self, fps: float) -> list[SceneDetector]:
        """Fresh PySceneDetect detectors for one pass at ``fps``."""
        n = self.min_frames(fps)
        t = DETECTORS[self.detector] if self.threshold is None else self.threshold
        main: SceneDetector
        if self.detector == "adaptive":
            main = FastAdaptiveDetector(adaptive_threshold=t, min_scene_len=n, min_content_val=self.min_content_val,
                                    luma_only=self.luma_only)
        elif self.detector == "content":
            main = FastContentDetector(threshold=t, min_scene_len=n, luma_only=self.luma_only)
        elif self.detector == "threshold":
            main = ThresholdDetector(threshold=t, min_scene_len=n)
        elif self.detector == "histogram":
            main = HistogramDetector(threshold=t, min_scene_len=n)
        else:
            main = HashDetector(threshold=t, min_scene_len=n)
        detectors = [main]
        if self.fades and self.detector != "threshold":
            # Two fade detectors: one cuts where a fade reaches black, one where the picture comes
            # back, so a fade through black becomes its own (black) shot between two clean ones.
            detectors.append(ThresholdDetector(threshold=self.fade_threshold, min_scene_len=n, fade_bias=-1.0,
                                               add_final_scene=True))
            detectors.append(ThresholdDetector(threshold=self.fade_threshold, min_scene_len=n, fade_bias=1.0))
        return detectors


class ShotConsumer:
    """A :class:`media.decode.FrameConsumer` that runs the detectors on BGR analysis frames.

    After ``finish()``, :attr:`shots` holds the result. ``fps`` is the stream's average
    rate (frame numbers stay exact for variable frame rate; times come from the pts).
    """

    def __init__(self, fps: float, options: ShotOptions | None = None) -> None:
        self.options = options or ShotOptions()
        self._fps = Fraction(fps).limit_denominator(100_000) if fps > 0 else Fraction(25)
        self._detectors = self.options.build(float(self._fps))
        self._times = array("d")
        # Cuts per detector; the fade detectors (after the first) win over the main one near a fade.
        self._cuts: list[list[int]] = [[] for _ in self._detectors]
        self._shots: list[Shot] | None = None

    def consume(self, frame_index: int, time: float, image: np.ndarray) -> None:
        tc = FrameTimecode(frame_index, fps=self._fps)
        self._times.append(time)
        for det, found in zip(self._detectors, self._cuts, strict=True):
            for cut in det.process_frame(tc, image):
                found.append(cut.frame_num)

    def finish(self) -> None:
        if self._times:
            last = FrameTimecode(len(self._times) - 1, fps=self._fps)
            for det, found in zip(self._detectors, self._cuts, strict=True):
                found.extend(c.frame_num for c in det.post_process(last))
        end = self._times[-1] + 1.0 / float(self._fps) if self._times else 0.0
        fade_cuts = [c for found in self._cuts[1:] for c in found]
        self._shots = shots_from_cuts(self._cuts[0], self._times, end, self.options.min_frames(float(self._fps)),
                                      priority=fade_cuts)

    @property
    def cuts(self) -> list[int]:
        """Frame indices where a new shot starts (excluding 0), after merging."""
        return [s.start_frame for s in self.shots[1:]]

    @property
    def shots(self) -> list[Shot]:
        if self._shots is None:
            raise RuntimeError("finish() has not been called")
        return self._shots


def shots_from_cuts(cuts: Sequence[int], times: Any, end_time: float, min_frames: int = 0,
                    priority: Sequence[int] = ()) -> list[Shot]:
    """Contiguous shots from cut frame indices; ``times[i]`` is frame i's time in seconds.

    ``priority`` cuts are placed first; a cut closer than ``min_frames`` to a kept one is dropped.
    """
    n = len(times)
    if n == 0:
        return []
    gap = max(1, min_frames)
    kept: list[int] = [0]
    for group in (priority, cuts):
        for c in sorted(set(group)):
            if 0 < c < n and all(abs(c - k) >= gap for k in kept):
                bisect.insort(kept, c)
    bounds = [*kept, n]
    return [Shot(start=float(times[a]), end=float(times[b]) if b < n else float(end_time), start_frame=a, end_frame=b)
            for a, b in itertools.pairwise(bounds)]


def detect_shots(path: str | os.PathLike[str], options: ShotOptions | None = None,
                 progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                 decode: DecodeOptions | None = None) -> list[Shot]:
    """Probe ``path`` (video required), decode it once and return its shots.

    Raises:
        the probe's validation errors (NoVideoStreamError for audio-only input), DecodeError,
        CancelledError.
    """
    info = probe(path, require_video=True)
    assert info.video is not None
    consumer = ShotConsumer(info.video.fps, options)
    decode_frames(path, [consumer], decode, progress=progress, cancel=cancel)
    return consumer.shots
