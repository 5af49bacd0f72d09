"""media.frames: picture statistics, thumbnail candidates, the static-logo scan."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from media.decode import decode_frames
from media.frames import FrameReport, FrameStatsConsumer, FrameStatsOptions, thumbnail_scores
from media.shots import ShotConsumer
from media.types import Shot
from tests.media.gen import Spec, checker, gradient, make_clip, noise, with_logo

LOGO = (128, 6, 26, 14)  # x, y, w, h in a 160x96 frame: top right
SIZE = (160, 96)


def _scenes(logo: bool) -> list[tuple[Spec, int]]:
    bases: list[Spec] = [noise(1), checker(6, drift=3), gradient, noise(2, scale=4)]
    return [(with_logo(b, LOGO) if logo else b, 36) for b in bases]


def _run(path: Path, rotation: int = 0, options: FrameStatsOptions | None = None) -> FrameReport:
    stats, shots = FrameStatsConsumer(options, rotation=rotation), ShotConsumer(24.0)
    decode_frames(path, [shots, stats])
    return stats.report(shots.shots)


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


@pytest.fixture(scope="module")
def logo_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("frames") / "logo.mp4", _scenes(True), fps=24, size=SIZE)


def test_static_logo_is_found_in_its_corner(logo_clip: Path) -> None:
    report = _run(logo_clip)
    assert [c.corner for c in report.logos] == ["top_right"]
    cand = report.logos[0]
    truth = (LOGO[0] / SIZE[0], LOGO[1] / SIZE[1], LOGO[2] / SIZE[0], LOGO[3] / SIZE[1])
    assert _iou((cand.x, cand.y, cand.width, cand.height), truth) > 0.6
    assert cand.score > 0.6 and report.centre_static < 0.1 and report.logo_samples == 12


def test_rotation_moves_the_box_to_display_coordinates(logo_clip: Path) -> None:
    # Stored top-right, shown rotated 90 degrees clockwise: bottom-right of the displayed picture.
    report = _run(logo_clip, rotation=90)
    assert [c.corner for c in report.logos] == ["bottom_right"]
    c = report.logos[0]
    assert c.x + c.width == pytest.approx(1.0 - LOGO[1] / SIZE[1], abs=0.05)
    assert c.width == pytest.approx(LOGO[3] / SIZE[1], abs=0.05)


def test_no_logo_no_candidate(tmp_path: Path) -> None:
    report = _run(make_clip(tmp_path / "clean.mp4", _scenes(False), fps=24, size=SIZE))
    assert report.logos == ()


def test_still_picture_is_not_a_logo(tmp_path: Path) -> None:
    still = with_logo(checker(6, drift=0), LOGO)
    report = _run(make_clip(tmp_path / "still.mp4", [(still, 144)], fps=24, size=SIZE))
    assert report.centre_static > 0.9 and report.logos == ()


def test_letterbox_border_is_not_a_logo(tmp_path: Path) -> None:
    def letterboxed(i: int, w: int, h: int) -> np.ndarray:
        img = noise(4)(i, w, h).copy()
        img[:12], img[-12:] = 0, 0
        return img
    report = _run(make_clip(tmp_path / "bars.mp4", [(letterboxed, 144)], fps=24, size=SIZE))
    assert report.logos == ()


def test_too_few_samples_gives_no_candidate(logo_clip: Path) -> None:
    report = _run(logo_clip, options=FrameStatsOptions(logo_min_samples=50))
    assert report.logos == () and report.logo_samples == 12


def test_samples_measure_the_picture() -> None:
    stats = FrameStatsConsumer(FrameStatsOptions(sample_rate=10))
    flat = np.full((90, 160, 3), 200, np.uint8)
    board = checker(8)(0, 160, 90)[:, :, ::-1].copy()
    dark = np.zeros((90, 160, 3), np.uint8)
    for k, img in enumerate([flat, board, dark]):
        stats.consume(k, k * 0.1, img)
    stats.finish()
    s = stats.report().samples
    assert s["frame"] == [0, 1, 2] and s["time"] == pytest.approx([0.0, 0.1, 0.2])
    assert s["exposure"][0] == pytest.approx(200, abs=1) and s["exposure"][2] == 0
    assert s["contrast"][0] == 0 and s["contrast"][1] > 100
    assert s["sharpness"][0] == 0 and s["sharpness"][1] > 1000


def test_sample_rate_picks_frames_by_time() -> None:
    stats = FrameStatsConsumer(FrameStatsOptions(sample_rate=2))
    img = np.full((36, 64, 3), 90, np.uint8)
    for k in range(100):  # 4 s at 25 fps
        stats.consume(k, k / 25, img)
    assert stats.report().samples["frame"] == [0, 13, 25, 38, 50, 63, 75, 88]


def test_thumbnail_prefers_sharp_well_exposed_frames() -> None:
    stats = FrameStatsConsumer(FrameStatsOptions(sample_rate=5, thumbnails_per_shot=2))
    sharp = checker(8, ((200, 180, 60), (40, 60, 90)))(0, 160, 96)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 4)
    for k in range(48):  # shot 0: blurred then sharp; shot 1: black
        img = blurred if k < 24 else sharp
        stats.consume(k, k / 24, img)
    for k in range(48, 72):
        stats.consume(k, k / 24, np.zeros((96, 160, 3), np.uint8))
    shots = [Shot(0.0, 2.0, 0, 48), Shot(2.0, 3.0, 48, 72)]
    report = stats.report(shots)
    assert [t.shot for t in report.thumbnails] == [0, 0]  # a black shot offers no thumbnail
    assert all(t.frame >= 24 and t.score > 0.5 for t in report.thumbnails)


def test_thumbnail_scores_rank() -> None:
    scores = thumbnail_scores(np.array([1000.0, 10.0, 1000.0, 1000.0]), np.array([60.0, 60.0, 60.0, 60.0]),
                              np.array([120.0, 120.0, 5.0, 250.0]))
    assert scores[0] == max(scores) and scores[2] < 0.1 and scores[3] < 0.1 and scores[1] < scores[0]


def test_report_json_round_trip(logo_clip: Path) -> None:
    report = _run(logo_clip)
    assert report.thumbnails and report.logos
    back = FrameReport.from_json(json.loads(json.dumps(report.to_json())))
    assert back.logos[0].corner == report.logos[0].corner
    assert back.logos[0].x == pytest.approx(report.logos[0].x, abs=1e-4)
    assert [t.frame for t in back.thumbnails] == [t.frame for t in report.thumbnails]
    assert back.samples["frame"] == report.samples["frame"]


@pytest.mark.parametrize("kwargs", [{"sample_rate": 0}, {"thumbnails_per_shot": -1}, {"logo_corner": 0.9},
                                    {"logo_min_stability": 0}, {"logo_min_score": 2}, {"logo_min_samples": 1}])
def test_options_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FrameStatsOptions(**kwargs)  # type: ignore[arg-type]
