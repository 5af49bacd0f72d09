"""Thumbnail: the sharp, well-exposed frame beats blurred, black and blown-out ones; 16:9 fitting; real video."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from media.errors import NoVideoStreamError
from media.thumbnails import fit_16x9, pick_thumbnail, score_images

SHARED = Path(__file__).resolve().parents[3] / "shared" / "media"


def _scene(seed: int = 0, w: int = 640, h: int = 360) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 110, np.uint8)
    for _ in range(40):
        x, y = rng.integers(0, w), rng.integers(0, h)
        color = tuple(int(c) for c in rng.integers(20, 235, 3))
        cv2.rectangle(img, (int(x), int(y)), (int(x) + 60, int(y) + 40), color, -1)
        cv2.putText(img, "RECAP", (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (250, 250, 250), 2)
    return img


def _candidates() -> dict[str, np.ndarray]:
    sharp = _scene()
    return {
        "blurred": cv2.GaussianBlur(sharp, (0, 0), 6),
        "black": np.full_like(sharp, 4),
        "sharp": sharp,
        "blown": np.clip(sharp.astype(int) + 150, 0, 255).astype(np.uint8),
        "flat": np.full_like(sharp, 118),
    }


def test_sharp_frame_scores_best() -> None:
    cands = _candidates()
    scores = dict(zip(cands, score_images(list(cands.values()))))
    assert max(scores, key=scores.__getitem__) == "sharp"
    assert scores["black"] < 0.1 and scores["flat"] < 0.1
    assert scores["blurred"] < scores["sharp"] * 0.8 and scores["blown"] < scores["sharp"]


@pytest.mark.parametrize(("size", "mode"), [
    ((204, 480), "crop"),        # 2.35:1 Sintel: centre crop loses 24 % of the width
    ((480, 640), "crop"),        # 4:3
    ((720, 1280), "exact"),
    ((100, 600), "letterbox"),   # 6:1: too wide to crop, bars above and below
    ((640, 360), "letterbox"),   # portrait 9:16: pillarbox
])
def test_fit_16x9(size: tuple[int, int], mode: str) -> None:
    img = np.full((*size, 3), 200, np.uint8)
    out = fit_16x9(img)
    assert out.shape == (720, 1280, 3)
    border = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])
    if mode == "letterbox":
        assert border.max() == 0 or out[0].max() == 0 or out[:, 0].max() == 0
    else:
        assert out.min() >= 195


def _video(path: Path, frames: list[np.ndarray], fps: int = 5) -> None:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = "yuv420p"
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def test_pick_from_video_keeps_candidates(tmp_path: Path) -> None:
    cands = _candidates()
    order = ["black", "blurred", "sharp", "blown"]
    frames = [cands[k] for k in order for _ in range(5)]     # 1 s of each at 5 fps
    video = tmp_path / "v.mp4"
    _video(video, frames)
    out = tmp_path / "thumbnail.jpg"
    result = pick_thumbnail(video, out, times=[0.4, 1.4, 2.4, 3.4], keep=3, keep_dir=tmp_path / "thumbs")
    assert 2.0 <= result.time < 3.0
    img = cv2.imread(str(out))
    assert img.shape == (720, 1280, 3)
    assert [c.path.name for c in result.candidates if c.path] == ["candidate_01.jpg", "candidate_02.jpg",
                                                                  "candidate_03.jpg"]
    assert result.candidates[0].score >= result.candidates[1].score >= result.candidates[2].score


@pytest.mark.skipif(not (SHARED / "sintel_trailer_480x204.mp4").exists(), reason="../shared/media is absent")
def test_real_trailer(tmp_path: Path) -> None:
    result = pick_thumbnail(SHARED / "sintel_trailer_480x204.mp4", tmp_path / "t.jpg", count=8, keep=2)
    img = cv2.imread(str(tmp_path / "t.jpg"))
    assert img.shape == (720, 1280, 3) and img.mean() > 15
    assert 3 < result.time < 50 and len(result.candidates) == 2


def test_audio_only_file_is_refused() -> None:
    if not (SHARED / "jfk.flac").exists():
        pytest.skip("../shared/media is absent")
    with pytest.raises(NoVideoStreamError):
        pick_thumbnail(SHARED / "jfk.flac", Path("/nonexistent/t.jpg"), times=[1.0])
