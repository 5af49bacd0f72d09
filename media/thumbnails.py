"""The recap's thumbnail: the best of several frames by sharpness, contrast and exposure, 1280x720 JPEG.

Frames are sampled from the finished video (or given as images); the scores are the same as the
analysis's thumbnail candidates (``media.frames.thumbnail_scores``); the top candidates are kept::

    result = pick_thumbnail(Path("out/recap.mp4"), Path("out/thumbnail.jpg"), keep_dir=Path("out/thumbs"))
    print(result.time, result.score, [c.path for c in result.candidates])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from media.errors import DecodeError, NoVideoStreamError, OutputError
from media.frames import thumbnail_scores
from media.types import JSON

__all__ = ["ThumbnailChoice", "ThumbnailResult", "fit_16x9", "pick_thumbnail", "sample_frames", "score_images"]

SIZE = (1280, 720)


@dataclass(frozen=True, slots=True)
class ThumbnailChoice:
    time: float
    score: float
    path: Path | None = None

    def to_json(self) -> JSON:
        return {"time": round(self.time, 3), "score": round(self.score, 4), "path": None if self.path is None
                else str(self.path)}


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    path: Path
    time: float
    score: float
    candidates: tuple[ThumbnailChoice, ...]

    def to_json(self) -> JSON:
        return {"path": str(self.path), "time": round(self.time, 3), "score": round(self.score, 4),
                "candidates": [c.to_json() for c in self.candidates]}


def score_images(images: Sequence[np.ndarray]) -> np.ndarray:
    """Scores in [0, 1] for BGR uint8 images: Laplacian sharpness, luma contrast and exposure, at 640 px wide."""
    sharp, contrast, exposure = [], [], []
    for img in images:
        h, w = img.shape[:2]
        small = cv2.resize(img, (640, max(2, round(640 * h / w))), interpolation=cv2.INTER_AREA)
        luma = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        sharp.append(float(cv2.Laplacian(luma, cv2.CV_64F).var()))
        contrast.append(float(luma.std()))
        exposure.append(float(luma.mean()))
    return thumbnail_scores(np.array(sharp), np.array(contrast), np.array(exposure))


def fit_16x9(image: np.ndarray, size: tuple[int, int] = SIZE, max_crop: float = 0.3) -> np.ndarray:
    """Scale to ``size``: crop the centre to 16:9 when that loses at most ``max_crop`` of a side, else letterbox."""
    tw, th = size
    h, w = image.shape[:2]
    target = tw / th
    aspect = w / h
    if aspect > target and 1 - target / aspect <= max_crop:
        cw = round(h * target)
        image = image[:, (w - cw) // 2:(w - cw) // 2 + cw]
    elif aspect < target and 1 - aspect / target <= max_crop:
        ch = round(w / target)
        image = image[(h - ch) // 2:(h - ch) // 2 + ch]
    h, w = image.shape[:2]
    scale = min(tw / w, th / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    if abs(w / h - target) < 0.01 * target:  # rounding of the crop: fill exactly, no 1-pixel bars
        nw, nh = tw, th
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    canvas = np.zeros((th, tw, 3), np.uint8)
    y, x = (th - nh) // 2, (tw - nw) // 2
    canvas[y:y + nh, x:x + nw] = resized
    return canvas


def sample_frames(video: Path, times: Sequence[float]) -> list[tuple[float, np.ndarray]]:
    """BGR frames at (just after) each time, by seeking; times past the end are skipped."""
    try:
        container = av.open(str(video))
    except (av.FFmpegError, OSError) as ex:
        raise DecodeError(f"cannot open {video.name}") from ex
    out: list[tuple[float, np.ndarray]] = []
    with container:
        if not container.streams.video:
            raise NoVideoStreamError(f"{video.name} has no video stream")
        stream = container.streams.video[0]
        base = stream.time_base
        for t in sorted(times):
            try:
                container.seek(int(t / base) if base else 0, stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.time is not None and frame.time + 1e-3 >= t:
                        out.append((float(frame.time), frame.to_ndarray(format="bgr24")))
                        break
            except av.FFmpegError as ex:
                raise DecodeError(f"cannot decode {video.name} at {t:.2f} s") from ex
    return out


def _write_jpeg(path: Path, image: np.ndarray, quality: int = 90) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OutputError(f"cannot encode {path.name}")
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data.tobytes())
        tmp.replace(path)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path.name}: {ex.strerror or ex}") from ex


def _default_times(video: Path, count: int) -> list[float]:
    try:
        with av.open(str(video)) as c:
            duration = float(c.duration or 0) / av.time_base
    except (av.FFmpegError, OSError) as ex:
        raise DecodeError(f"cannot open {video.name}") from ex
    # Skip the first and last 8 %: title cards and fades live there.
    return [duration * (0.08 + 0.84 * (i + 0.5) / count) for i in range(count)]


def pick_thumbnail(video: Path, out_path: Path, *, times: Sequence[float] | None = None, count: int = 16,
                   keep: int = 5, keep_dir: Path | None = None) -> ThumbnailResult:
    """Sample ``count`` frames (or the given ``times``), write the best as a 1280x720 JPEG, keep the top ``keep``.

    Raises:
        DecodeError: no frame could be read. OutputError: cannot write.
    """
    if count < 1 or keep < 0:
        raise ValueError("count must be >= 1 and keep >= 0")
    frames = sample_frames(video, times if times is not None else _default_times(video, count))
    if not frames:
        raise DecodeError(f"no frame could be sampled from {video.name}", code="THUMBNAIL_NO_FRAMES")
    scores = score_images([img for _, img in frames])
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    _write_jpeg(out_path, fit_16x9(frames[best][1]))
    kept: list[ThumbnailChoice] = []
    for rank, i in enumerate(order[:keep]):
        path = None
        if keep_dir is not None:
            keep_dir.mkdir(parents=True, exist_ok=True)
            path = keep_dir / f"candidate_{rank + 1:02d}.jpg"
            _write_jpeg(path, fit_16x9(frames[int(i)][1]))
        kept.append(ThumbnailChoice(frames[int(i)][0], float(scores[int(i)]), path))
    return ThumbnailResult(out_path, frames[best][0], float(scores[best]), tuple(kept))
