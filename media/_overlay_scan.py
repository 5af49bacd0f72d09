"""Per-window temporal statistics of downscaled luma for the static-overlay detector (private).

Fed from the one decode pass (a :class:`media.decode.FrameConsumer`). A few frames per second
are sampled; each sample adds its luma, its squared luma and its gradient magnitude to the
accumulators of the current time window, and counts a scene change when the picture moved a
lot since the previous sample. When the number of windows passes ``max_windows`` neighbouring
windows are merged pairwise (and the window length doubles), so memory stays bounded whatever
the length of the source. Detection only, for the moderation workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

#: A sample whose 32x18 thumbnail differs from the previous one by this mean luma is a new scene.
_SCENE_CHANGE = 18.0
#: Samples darker than this mean luma (fades, gaps) carry no overlay evidence.
_MIN_EXPOSURE = 8.0


@dataclass(slots=True)
class Window:
    """Sums over the samples of one time window (float32 maps at analysis size)."""

    start: float
    end: float
    luma: np.ndarray
    luma_sq: np.ndarray
    grad: np.ndarray
    samples: int = 0
    scenes: int = 0

    def merge(self, other: Window) -> Window:
        return Window(self.start, other.end, self.luma + other.luma, self.luma_sq + other.luma_sq,
                      self.grad + other.grad, self.samples + other.samples, self.scenes + other.scenes)


@dataclass(slots=True)
class OverlayScan:
    """Accumulates the windows; ``consume``/``finish`` make it a frame consumer."""

    sample_rate: float = 3.0
    window_seconds: float = 4.0
    max_windows: int = 64
    rotation: int = 0
    windows: list[Window] = field(default_factory=list)
    seconds: float = 0.0
    _next: float = 0.0
    _thumb: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.seconds = self.window_seconds

    def consume(self, frame_index: int, time: float, image: np.ndarray) -> None:
        if time + 1e-6 < self._next:
            return
        period = 1.0 / self.sample_rate
        self._next = max(self._next + period, time + 0.5 * period)
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        thumb = cv2.resize(gray, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
        if float(thumb.mean()) < _MIN_EXPOSURE:
            return
        changed = self._thumb is None or float(cv2.norm(thumb, self._thumb, cv2.NORM_L1)) / thumb.size > _SCENE_CHANGE
        self._thumb = thumb
        window = self._window(time, gray.shape)
        luma = gray.astype(np.float32)
        cv2.accumulate(luma, window.luma)
        cv2.accumulateSquare(luma, window.luma_sq)
        gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
        cv2.accumulate(cv2.magnitude(gx, gy), window.grad)
        window.samples += 1
        window.scenes += int(changed)

    def finish(self) -> None:
        return None

    def _window(self, time: float, shape: tuple[int, ...]) -> Window:
        index = int(time // self.seconds)
        last = self.windows[-1] if self.windows else None
        if last is not None and last.luma.shape == shape[:2] and time < last.end:
            return last
        start = index * self.seconds
        zeros = np.zeros(shape[:2], np.float32)
        self.windows.append(Window(start, start + self.seconds, zeros, zeros.copy(), zeros.copy()))
        if len(self.windows) > self.max_windows:
            self._coarsen()
        return self.windows[-1]

    def _coarsen(self) -> None:
        """Merge neighbouring windows so that each covers twice the time."""
        self.seconds *= 2
        merged: list[Window] = []
        for w in self.windows:
            if merged and int(merged[-1].start // self.seconds) == int(w.start // self.seconds):
                merged[-1] = merged[-1].merge(w)
            else:
                start = (w.start // self.seconds) * self.seconds
                merged.append(Window(start, start + self.seconds, w.luma, w.luma_sq, w.grad, w.samples, w.scenes))
        for w in merged:
            w.end = w.start + self.seconds
        self.windows = merged
