"""PySceneDetect's content detectors with a cheaper, identical frame score (private).

``ContentDetector._calculate_frame_score`` widens each HSV channel to int32 and
builds several full-frame temporaries per channel; ``cv2.absdiff`` + ``cv2.mean``
compute the same mean absolute difference in one pass over uint8 data. The score,
the flash filter, the adaptive window and the emitted cuts are unchanged (the
tests compare our cuts with ``scenedetect.detect()`` frame for frame). The edge
component and statistics files take the upstream path.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from scenedetect import AdaptiveDetector, ContentDetector


def _fast_score(det: Any, frame_img: np.ndarray) -> float | None:
    """The upstream score, or None when the upstream path must be used (edges, stats file)."""
    weights = det._weights
    if weights.delta_edges > 0.0 or det.stats_manager is not None:
        return None
    hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
    last = det._fast_last
    det._fast_last = hsv
    if last is None:
        return 0.0
    d_hue, d_sat, d_lum, _ = cv2.mean(cv2.absdiff(hsv, last))
    total = weights.delta_hue * d_hue + weights.delta_sat * d_sat + weights.delta_lum * d_lum
    return float(total / sum(abs(w) for w in weights))


class FastContentDetector(ContentDetector):  # type: ignore[misc]
    """:class:`scenedetect.ContentDetector` with the one-pass score."""

    _fast_last: np.ndarray | None = None

    def _calculate_frame_score(self, timecode: Any, frame_img: np.ndarray) -> float:
        score = _fast_score(self, frame_img)
        return float(super()._calculate_frame_score(timecode, frame_img)) if score is None else score


class FastAdaptiveDetector(AdaptiveDetector):  # type: ignore[misc]
    """:class:`scenedetect.AdaptiveDetector` with the one-pass score."""

    _fast_last: np.ndarray | None = None

    def _calculate_frame_score(self, timecode: Any, frame_img: np.ndarray) -> float:
        score = _fast_score(self, frame_img)
        return float(super()._calculate_frame_score(timecode, frame_img)) if score is None else score
