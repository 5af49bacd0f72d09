"""media.analysis: one pass feeding shots and frame statistics; artifacts; bad input; cancel."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from media.analysis import AnalysisOptions, VideoAnalysis, analyse_video
from media.errors import (
    CancelledError,
    CorruptMediaError,
    EmptyFileError,
    MediaError,
    NotMediaError,
    NoVideoStreamError,
)
from media.frames import FrameStatsOptions
from media.shots import ShotOptions
from tests.media.gen import (
    Spec,
    bars,
    checker,
    make_audio,
    make_clip,
    set_mp4_rotation,
    truncate_before_moov,
    with_logo,
)

LOGO_BOX = (4, 70, 24, 16)
SCENES: list[tuple[Spec, int]] = [((220, 20, 20), 24),
                                  (with_logo(checker(8, ((30, 60, 220), (240, 220, 40))), LOGO_BOX), 36),
                                  (with_logo(bars, LOGO_BOX), 24)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("analysis") / "clip.mp4", SCENES, fps=24, size=(160, 96), audio=True)


def test_one_pass_gives_shots_and_frames(clip: Path) -> None:
    seen: list[float] = []
    result = analyse_video(clip, progress=seen.append)
    assert [s.start_frame for s in result.shots] == [0, 24, 60]
    assert result.decoded_frames == 84 and result.shots[-1].end == pytest.approx(3.5)
    assert result.probe.has_audio and result.probe.video is not None and result.probe.video.fps == 24
    assert result.frames is not None
    assert len(result.frames.samples["time"]) == 7  # 2 per second over 3.5 s
    assert {t.shot for t in result.frames.thumbnails} == {1, 2}  # a flat red shot has nothing sharp to offer
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_artifacts_are_written_and_read_back(clip: Path, tmp_path: Path) -> None:
    result = analyse_video(clip)
    paths = result.write(tmp_path / "out")
    names = ["frames.json", "overlays.json", "probe.json", "shots.json"]
    assert sorted(p.name for p in paths.values()) == names
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    shots = json.loads(paths["shots"].read_text())
    assert shots["fps"] == 24 and [s["start_frame"] for s in shots["shots"]] == [0, 24, 60]
    back = VideoAnalysis.from_json(json.loads(json.dumps(result.to_json())))
    assert back.shots == result.shots and back.probe == result.probe
    assert back.frames is not None and result.frames is not None
    assert back.frames.samples == result.frames.samples


def test_options_reach_the_consumers(clip: Path) -> None:
    opts = AnalysisOptions(shots=ShotOptions(detector="content"), frames=FrameStatsOptions(sample_rate=4))
    result = analyse_video(clip, opts)
    assert result.frames is not None and len(result.frames.samples["time"]) == 14
    assert analyse_video(clip, AnalysisOptions(frame_stats=False)).frames is None


def test_video_only_source(tmp_path: Path) -> None:
    result = analyse_video(make_clip(tmp_path / "silent.mkv", SCENES, fps=24))
    assert not result.probe.has_audio and len(result.shots) == 3


def test_rotated_source(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "phone.mp4", SCENES, fps=24, size=(160, 96))
    set_mp4_rotation(path, 90)
    result = analyse_video(path)
    assert result.probe.video is not None and result.probe.video.rotation == 90
    assert [s.start_frame for s in result.shots] == [0, 24, 60]


def test_variable_frame_rate_source(tmp_path: Path) -> None:
    times = [i / 30 for i in range(30)] + [1.0 + i / 10 for i in range(20)]
    scenes: list[tuple[Spec, int]] = [((220, 20, 20), 30), (checker(8, ((30, 60, 220), (240, 220, 40))), 20)]
    result = analyse_video(make_clip(tmp_path / "vfr.mkv", scenes, times=times))
    assert result.probe.video is not None and result.probe.video.vfr
    assert [s.start_frame for s in result.shots] == [0, 30]
    assert result.shots[1].start == pytest.approx(1.0, abs=1e-3)


def test_real_sources(shared_media: Path) -> None:
    banana = analyse_video(shared_media / "autoeditor_example_banana.mp4")
    assert banana.decoded_frames == 1272 and banana.probe.has_audio
    assert banana.shots[-1].end == pytest.approx(42.4, abs=0.05)
    assert banana.frames is not None and banana.frames.thumbnails
    popeye = analyse_video(shared_media / "popeye" / "vob_Title_T00-1.mkv")
    assert not popeye.probe.has_audio and len(popeye.shots) >= 3


def test_audio_only_is_refused(shared_media: Path, tmp_path: Path) -> None:
    for path in (shared_media / "jfk.flac", make_audio(tmp_path / "tone.m4a", 0.5, codec="aac")):
        with pytest.raises(NoVideoStreamError) as ex:
            analyse_video(path)
        assert ex.value.code == "NO_VIDEO_STREAM"


def _zero(d: Path) -> Path:
    (d / "zero.mp4").touch()
    return d / "zero.mp4"


def _text(d: Path) -> Path:
    (d / "text.mp4").write_text("not a video\n" * 30)
    return d / "text.mp4"


def _truncated(d: Path) -> Path:
    return truncate_before_moov(make_clip(d / "full.mp4", SCENES), d / "cut.mp4")


@pytest.mark.parametrize(("make", "error", "code"), [(_zero, EmptyFileError, "EMPTY_FILE"),
                                                     (_text, NotMediaError, "NOT_MEDIA"),
                                                     (_truncated, CorruptMediaError, "CORRUPT_MEDIA")])
def test_bad_input_fails_clearly_and_writes_nothing(tmp_path: Path, make: Callable[[Path], Path],
                                                    error: type[MediaError], code: str) -> None:
    path = make(tmp_path)
    before = set(tmp_path.iterdir())
    with pytest.raises(error) as ex:
        analyse_video(path)
    assert ex.value.code == code and set(tmp_path.iterdir()) == before


def test_cancel(clip: Path) -> None:
    with pytest.raises(CancelledError):
        analyse_video(clip, cancel=lambda: True)


def test_write_to_an_unwritable_place_leaves_nothing(clip: Path, tmp_path: Path) -> None:
    from media.errors import OutputError

    result = analyse_video(clip, AnalysisOptions(frame_stats=False))
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(OutputError) as ex:
        result.write(blocker / "out")
    assert ex.value.code == "OUTPUT_FAILED" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]
