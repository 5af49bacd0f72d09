"""Static overlay detection on small generated clips: found where and when it is, nothing on clean clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from media.analysis import AnalysisOptions, analyse_video
from media.moderation import OverlayOptions, OverlayRegion, OverlayReport, detect_overlays, new_overlay_scan
from tests.media.gen import Painter, make_clip, noise, with_logo

SIZE = (320, 180)
BOX = (240, 12, 64, 32)  # top right, 3.6 % of the frame


def _scenes(logo_from: int | None, seconds: int = 24, fps: int = 12) -> list[tuple[Painter, int]]:
    """One-second scenes of moving blocky texture, the logo burnt in from second ``logo_from``."""
    out: list[tuple[Painter, int]] = []
    for k in range(seconds):
        base = noise(seed=k, scale=12)
        out.append((with_logo(base, BOX) if logo_from is not None and k >= logo_from else base, fps))
    return out


def _analyse(path: Path) -> OverlayReport:
    report = analyse_video(path).overlays
    assert report is not None
    return report


def _near(region: OverlayRegion, box: tuple[int, int, int, int]) -> bool:
    x, y, w, h = (v / s for v, s in zip(box, (*SIZE, *SIZE), strict=True))
    rx, ry, rw, rh = region.box
    return abs(rx - x) < 0.05 and abs(ry - y) < 0.08 and abs(rw - w) < 0.08 and abs(rh - h) < 0.12


def test_logo_present_the_whole_time_is_found(tmp_path: Path) -> None:
    report = _analyse(make_clip(tmp_path / "logo.mp4", _scenes(0), fps=12, size=SIZE))
    assert len(report.regions) == 1
    region = report.regions[0]
    assert _near(region, BOX)
    assert region.ranges[0][0] == 0.0 and region.ranges[-1][1] == pytest.approx(24.0, abs=0.2)
    assert region.opacity > 0.8 and region.confidence >= 0.5
    crop = cv2.imdecode(np.frombuffer(region.crop_png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert crop is not None and min(crop.shape[:2]) >= 16
    assert report.checked_share == pytest.approx(1.0, abs=0.02)


def test_logo_appearing_mid_video_has_its_time_range(tmp_path: Path) -> None:
    report = _analyse(make_clip(tmp_path / "late.mp4", _scenes(12), fps=12, size=SIZE))
    assert [_near(r, BOX) for r in report.regions] == [True]
    (start, end), = report.regions[0].ranges
    assert 8.0 <= start <= 12.0 and end == pytest.approx(24.0, abs=0.2)


def test_clean_clip_has_no_region(tmp_path: Path) -> None:
    assert _analyse(make_clip(tmp_path / "clean.mp4", _scenes(None), fps=12, size=SIZE)).regions == ()


def test_a_still_picture_is_not_evidence(tmp_path: Path) -> None:
    still: Callable[[int, int, int], np.ndarray] = with_logo(noise(seed=3, scale=12), BOX)
    report = _analyse(make_clip(tmp_path / "still.mp4", [(lambda i, w, h: still(0, w, h), 240)], fps=12, size=SIZE))
    assert report.regions == () and report.checked_share == 0.0


def test_report_round_trips_through_json(tmp_path: Path) -> None:
    report = _analyse(make_clip(tmp_path / "logo.mp4", _scenes(0, seconds=16), fps=12, size=SIZE))
    assert report.regions and OverlayReport.from_json(report.to_json()).to_json() == report.to_json()


def test_scan_memory_stays_bounded_by_merging_windows() -> None:
    scan = new_overlay_scan(OverlayOptions(window_seconds=1.0, max_windows=8))
    rng = np.random.default_rng(0)
    for i in range(200):
        scan.consume(i, i / 2.0, rng.integers(0, 256, (36, 64), dtype=np.uint8))
    assert len(scan.windows) <= 8 and scan.windows[-1].end >= 99.5
    assert sum(w.samples for w in scan.windows) == 200
    assert detect_overlays(scan, 100.0).regions == ()


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="coherence"):
        OverlayOptions(coherence=1.5)
    assert analyse_video.__name__ and AnalysisOptions(overlays=None).overlays is None
