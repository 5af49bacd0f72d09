"""media.shots: frame-exact cuts on generated clips, fades, and real clips from PySceneDetect's resources."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import scenedetect

from media.errors import NoVideoStreamError
from media.shots import ShotConsumer, ShotOptions, detect_shots, shots_from_cuts
from media.types import Shot
from tests.media.gen import Spec, bars, checker, fade, gradient, make_audio, make_clip

LAYOUTS: dict[str, tuple[list[tuple[Spec, int]], int, tuple[int, int]]] = {
    "colour-pattern-24fps": ([((220, 20, 20), 20), (checker(8, ((30, 60, 220), (240, 220, 40))), 25), (bars, 18),
                              ((0, 128, 255), 22), (gradient, 30)], 24, (160, 96)),
    "moving-30fps": ([(gradient, 31), (checker(6, ((250, 250, 250), (10, 10, 10)), drift=2), 16), ((20, 200, 60), 40),
                      (bars, 12), (checker(10, ((200, 30, 200), (20, 20, 90))), 24)], 30, (192, 108)),
    "flat-hues-25fps": ([((10, 10, 10), 15), ((240, 240, 240), 15), ((240, 10, 10), 15), ((10, 240, 10), 15),
                         ((10, 10, 240), 15)], 25, (128, 72)),
}
# ContentDetector's fixed threshold does not fire on pure hue swaps at equal brightness (by design).
CASES = [(name, det) for name in LAYOUTS for det in ("adaptive", "content", "histogram")
         if not (name == "flat-hues-25fps" and det == "content")]


def _expected_cuts(scenes: Sequence[tuple[Spec, int]]) -> list[int]:
    cuts, at = [], 0
    for _, n in scenes[:-1]:
        at += n
        cuts.append(at)
    return cuts


def _assert_contiguous(shots: list[Shot], frames: int) -> None:
    assert shots[0].start_frame == 0 and shots[0].start == 0.0 and shots[-1].end_frame == frames
    for a, b in itertools.pairwise(shots):
        assert a.end_frame == b.start_frame and a.end == b.start and a.start < a.end


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("shots")
    return {name: make_clip(root / f"{name}.mp4", scenes, fps=fps, size=size)
            for name, (scenes, fps, size) in LAYOUTS.items()}


@pytest.mark.parametrize(("layout", "detector"), CASES)
def test_hard_cuts_are_frame_exact(clips: dict[str, Path], layout: str, detector: str) -> None:
    scenes, fps, _ = LAYOUTS[layout]
    shots = detect_shots(clips[layout], ShotOptions(detector=detector, min_shot_length=0.3))
    assert [s.start_frame for s in shots[1:]] == _expected_cuts(scenes)
    _assert_contiguous(shots, sum(n for _, n in scenes))
    for s in shots:
        assert s.start == pytest.approx(s.start_frame / fps, abs=1e-9)
    assert shots[-1].end == pytest.approx(sum(n for _, n in scenes) / fps)


def test_min_shot_length_merges_short_shots(tmp_path: Path) -> None:
    scenes: list[tuple[Spec, int]] = [((220, 20, 20), 24), ((20, 20, 220), 6), ((20, 220, 20), 24)]
    path = make_clip(tmp_path / "flash.mp4", scenes, fps=24)
    short = detect_shots(path, ShotOptions(min_shot_length=0.1))
    long = detect_shots(path, ShotOptions(min_shot_length=0.5))
    assert [s.start_frame for s in short[1:]] == [24, 30]
    assert [s.start_frame for s in long[1:]] == [24]
    _assert_contiguous(long, 54)


def test_fade_through_black_becomes_its_own_shot(tmp_path: Path) -> None:
    a = checker(8, ((250, 250, 250), (10, 10, 10)))
    # Frames 30-35 fade out (35 is the first black one), 36-43 black, 44-49 fade in (45 is bright again).
    scenes: list[tuple[Spec, int]] = [(a, 30), (fade(a, (0, 0, 0), 6), 6), ((0, 0, 0), 8),
                                      (fade((0, 0, 0), bars, 6), 6), (bars, 30)]
    path = make_clip(tmp_path / "fade.mp4", scenes, fps=24)
    for detector in ("adaptive", "content"):
        shots = detect_shots(path, ShotOptions(detector=detector, fades=True, min_shot_length=0.3))
        assert [s.start_frame for s in shots[1:]] == [35, 45], detector
        _assert_contiguous(shots, 80)
    middle = detect_shots(path, ShotOptions(detector="threshold", min_shot_length=0.3))
    assert [s.start_frame for s in middle[1:]] == [40]  # one cut, half-way through the black


def test_counter_clip_matches_pyscenedetect(shared_media: Path) -> None:
    path = shared_media / "pyscenedetect" / "counter.mp4"
    for detector, reference in (("adaptive", scenedetect.AdaptiveDetector(min_scene_len=5)),
                                ("content", scenedetect.ContentDetector(min_scene_len=5))):
        ours = [s.start_frame for s in detect_shots(path, ShotOptions(detector=detector, min_shot_length=0.5))]
        theirs = [start.frame_num for start, _ in scenedetect.detect(str(path), reference)]
        assert ours == theirs == [0, 10, 20]


@pytest.mark.parametrize("name", ["pyscenedetect/testvideo.mp4", "sintel_trailer_480x204.mp4"])
def test_single_pass_equals_pyscenedetect_detect(shared_media: Path, name: str) -> None:
    """Feeding AdaptiveDetector from our pass gives PySceneDetect's own result, frame for frame."""
    path = shared_media / name
    fps = scenedetect.open_video(str(path)).frame_rate
    ours = detect_shots(path, ShotOptions(min_shot_length=15 / float(fps)))
    theirs = [start.frame_num for start, _ in scenedetect.detect(str(path), scenedetect.AdaptiveDetector())]
    assert [s.start_frame for s in ours] == theirs
    assert len(ours) >= 5


def test_testvideo_against_its_scene_list(shared_media: Path) -> None:
    """The CSV is an older PySceneDetect's output, cutting inside the black gaps between the 3 shots."""
    root = shared_media / "pyscenedetect"
    with (root / "testvideo_scenes.csv").open() as fh:
        rows = [r for r in csv.reader(fh) if r and r[0].isdigit()]
    reference = [int(float(r[2])) for r in rows][1:]
    assert reference == [201, 382]
    threshold = detect_shots(root / "testvideo.mp4", ShotOptions(detector="threshold"))
    ours = [s.start_frame for s in threshold[1:]]
    assert len(ours) == len(reference) + 1  # plus the fade-in from black at the very start
    assert all(abs(o - r) <= 5 for o, r in zip(ours[1:], reference, strict=True))
    # Fade-aware: each reference cut falls inside a black shot of its own.
    shots = detect_shots(root / "testvideo.mp4", ShotOptions(fades=True))
    for ref in reference:
        inside = next(s for s in shots if s.start_frame <= ref < s.end_frame)
        assert inside.end_frame - inside.start_frame < 50 and inside.start_frame < ref


def test_popeye_hevc_runs_and_covers_the_video(shared_media: Path) -> None:
    path = shared_media / "popeye" / "vob_Title_T03-4.mkv"
    shots = detect_shots(path, ShotOptions(luma_only=True))
    assert len(shots) >= 3
    assert shots[-1].end == pytest.approx(60.0, abs=0.2)
    _assert_contiguous(shots, shots[-1].end_frame)


def test_audio_only_is_refused(shared_media: Path, tmp_path: Path) -> None:
    for path in (shared_media / "jfk.flac", make_audio(tmp_path / "tone.flac", 0.5)):
        with pytest.raises(NoVideoStreamError) as ex:
            detect_shots(path)
        assert ex.value.code == "NO_VIDEO_STREAM"


def test_shots_from_cuts_rules() -> None:
    times = [k / 10 for k in range(50)]
    shots = shots_from_cuts([0, 12, 14, 30, 49, 60], times, 5.0, min_frames=5, priority=[15])
    assert [(s.start_frame, s.end_frame) for s in shots] == [(0, 15), (15, 30), (30, 49), (49, 50)]
    assert shots[-1].end == 5.0
    assert shots_from_cuts([], [], 0.0) == []


def test_consumer_needs_finish() -> None:
    with pytest.raises(RuntimeError):
        _ = ShotConsumer(24.0).shots


@pytest.mark.parametrize("kwargs", [{"detector": "magic"}, {"threshold": 0}, {"threshold": 300},
                                    {"detector": "hash", "threshold": 2.0}, {"min_shot_length": -1},
                                    {"fade_threshold": 0}, {"min_content_val": 300}])
def test_options_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ShotOptions(**kwargs)  # type: ignore[arg-type]


def test_fast_detectors_score_exactly_like_upstream(shared_media: Path) -> None:
    import av
    from scenedetect import FrameTimecode

    from media._video_detectors import FastAdaptiveDetector, FastContentDetector

    pairs: list[tuple[Any, Any]] = [(FastAdaptiveDetector(), scenedetect.AdaptiveDetector()),
             (FastContentDetector(luma_only=True), scenedetect.ContentDetector(luma_only=True))]
    with av.open(str(shared_media / "sintel_trailer_480x204.mp4")) as c:
        for n, frame in enumerate(c.decode(video=0)):
            if n >= 400:
                break
            img = frame.to_ndarray(width=256, height=108, format="bgr24")
            tc = FrameTimecode(n, fps=24.0)
            for fast, upstream in pairs:
                assert [x.frame_num for x in fast.process_frame(tc, img)] == \
                    [x.frame_num for x in upstream.process_frame(tc, img)]
                assert fast._frame_score == pytest.approx(upstream._frame_score, abs=1e-9)


def test_skipping_the_loop_filter_keeps_hard_cuts(clips: dict[str, Path]) -> None:
    from media.decode import DecodeOptions

    scenes, _, _ = LAYOUTS["moving-30fps"]
    shots = detect_shots(clips["moving-30fps"], ShotOptions(min_shot_length=0.3),
                         decode=DecodeOptions(skip_loop_filter=True))
    assert [s.start_frame for s in shots[1:]] == _expected_cuts(scenes)


def test_fades_clip_black_gaps_become_shots(shared_media: Path) -> None:
    from media.decode import decode_frames

    class Means:
        def __init__(self) -> None:
            self.values: list[float] = []

        def consume(self, frame_index: int, time: float, image: Any) -> None:
            self.values.append(float(image.mean()))

        def finish(self) -> None:
            pass

    path = shared_media / "pyscenedetect" / "fades.mp4"
    means = Means()
    decode_frames(path, [means])
    shots = detect_shots(path, ShotOptions(fades=True))
    black = [s for s in shots if max(means.values[s.start_frame:s.end_frame]) < 12.0]
    picture = [s for s in shots if s not in black]
    assert len(black) >= 2 and len(picture) >= 3
    for s in picture[1:]:  # a picture shot starts where the fade comes back above the threshold
        assert means.values[s.start_frame] >= 12.0 > means.values[s.start_frame - 1]
    for s in black[:-1]:  # and a black shot where it goes below
        assert means.values[s.start_frame] < 12.0 <= means.values[s.start_frame - 1]


def test_default_thresholds_are_pyscenedetect_defaults() -> None:
    import inspect

    from media.shots import DETECTORS

    classes = {"adaptive": (scenedetect.AdaptiveDetector, "adaptive_threshold"),
               "content": (scenedetect.ContentDetector, "threshold"),
               "threshold": (scenedetect.ThresholdDetector, "threshold"),
               "histogram": (scenedetect.HistogramDetector, "threshold"),
               "hash": (scenedetect.HashDetector, "threshold")}
    for name, (cls, arg) in classes.items():
        assert DETECTORS[name] == inspect.signature(cls.__init__).parameters[arg].default, name
