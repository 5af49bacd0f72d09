"""Edit decision list: building from an alignment, JSON round trip, validation errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from media.edl import (
    BeatSlot,
    EditList,
    EdlClip,
    EdlOptions,
    EdlSource,
    NarrationSpan,
    SourceInfo,
    build_edl,
    frame_range,
    retime,
    validate_edl,
)
from media.errors import EditListError
from media.types import Alignment, BeatAlignment, Clip, SourceRef

FPS = 25.0


def _alignment(beats: list[list[tuple[float, float]]], duration: float = 60.0) -> Alignment:
    return Alignment((SourceRef("s0", "movie.mp4", duration),),
                     tuple(BeatAlignment(i, f"beat {i}", 0.0, 0.9, tuple(Clip("s0", a, b) for a, b in clips))
                           for i, clips in enumerate(beats)))


SOURCES = {"s0": SourceInfo("movie.mp4", 60.0, FPS)}


def _frames(edl: EditList) -> list[int]:
    out: list[int] = []
    for clip in edl.clips:
        a, b = frame_range(clip, FPS)
        out.extend(range(a, b))
    return out


def test_beats_laid_end_to_end_and_snapped() -> None:
    edl = build_edl(_alignment([[(1.01, 3.0)], [(10.0, 11.0), (20.0, 22.0)]]), SOURCES,
                    beat_durations={0: 2.0, 1: 2.5})
    assert [s.beat for s in edl.slots] == [0, 1]
    assert edl.slots[0].start == 0.0
    assert edl.slots[1].start == pytest.approx(edl.slots[0].duration)
    # 2.5 s is 62.5 frames at 25 fps: slots never overshoot, so half frames round down
    assert edl.slots[1].duration == pytest.approx(62 / FPS)
    for clip in edl.clips:
        assert clip.src_in * FPS == pytest.approx(round(clip.src_in * FPS))
        assert clip.src_out * FPS == pytest.approx(round(clip.src_out * FPS))
    # clips are contiguous on the timeline
    for prev, nxt in zip(edl.clips, edl.clips[1:], strict=False):
        assert nxt.timeline_start == pytest.approx(prev.timeline_end)
    assert edl.duration == pytest.approx(4.5, abs=0.5 / FPS + 1e-9)
    # beat 1 takes all of the first clip and the rest (37 frames) of the second
    assert [(c.src_in, c.src_out) for c in edl.clips if c.beat == 1] == [(10.0, 11.0), (20.0, 20.0 + 37 / FPS)]


@pytest.mark.parametrize(("clips", "target", "expected"), [
    ([(10.0, 12.0)], 3.0, [(10.0, 13.0)]),                      # extend the last clip forward
    ([(10.0, 12.0), (30.0, 31.0)], 4.0, [(10.0, 12.0), (30.0, 32.0)]),  # take the next clips, then extend
    ([(58.0, 60.0)], 3.0, [(57.0, 60.0)]),                      # source end: extend backwards
])
def test_narration_longer_than_footage(clips: list[tuple[float, float]], target: float,
                                       expected: list[tuple[float, float]]) -> None:
    edl = build_edl(_alignment([clips]), SOURCES, beat_durations={0: target})
    assert [(c.src_in, c.src_out) for c in edl.clips] == expected
    assert edl.slots[0].duration == pytest.approx(target)


def test_footage_never_reused() -> None:
    edl = build_edl(_alignment([[(10.0, 14.0)], [(12.0, 16.0)]]), SOURCES, beat_durations={0: 4.0, 1: 2.0})
    frames = _frames(edl)
    assert len(frames) == len(set(frames))
    assert [(c.src_in, c.src_out) for c in edl.clips] == [(10.0, 14.0), (14.0, 16.0)]


def test_narration_longer_than_all_footage() -> None:
    with pytest.raises(EditListError) as info:
        build_edl(_alignment([[(1.0, 2.0)]], duration=5.0), {"s0": SourceInfo("m.mp4", 5.0, FPS)},
                  beat_durations={0: 9.0})
    assert info.value.code == "EDL_FOOTAGE_SHORT"


def test_json_round_trip() -> None:
    nar = {0: NarrationSpan("narration.wav", 0.0, 2.0)}
    edl = build_edl(_alignment([[(1.0, 3.0)]]), SOURCES, narration=nar,
                    options=EdlOptions(profile="720p", title="T", music="m.mp3", keep_source_audio_beats=(0,)))
    data = json.loads(json.dumps(edl.to_json()))
    assert data["version"] == 1 and data["profile"] == "720p"
    again = EditList.from_json(data)
    assert again == edl
    assert again.clips[0].keep_source_audio
    assert again.slots[0].narration == nar[0]


def test_unknown_source_in_alignment() -> None:
    with pytest.raises(EditListError) as info:
        build_edl(_alignment([[(1.0, 2.0)]]), {"other": SourceInfo("x.mp4", 10.0, FPS)})
    assert info.value.code == "EDL_SOURCE_MISSING"


def _edl(clips: list[EdlClip], path: str = "movie.mp4") -> EditList:
    return EditList((EdlSource("s0", path, FPS, 10.0),), (BeatSlot(0, 0.0, 1.0),), tuple(clips))


@pytest.mark.parametrize(("clip", "code"), [
    (EdlClip("s0", "movie.mp4", 9.0, 11.0, 0, 0.0), "EDL_TIME_RANGE"),
    (EdlClip("s0", "movie.mp4", -1.0, 1.0, 0, 0.0), "EDL_TIME_RANGE"),
    (EdlClip("s0", "movie.mp4", 2.0, 2.0, 0, 0.0), "EDL_ZERO_LENGTH"),
    (EdlClip("s0", "movie.mp4", 2.0, 2.01, 0, 0.0), "EDL_ZERO_LENGTH"),
    (EdlClip("s0", "movie.mp4", 2.0, 3.0, 0, 0.0, speed=2.0), "EDL_TIME_RANGE"),
    (EdlClip("nope", "movie.mp4", 2.0, 3.0, 0, 0.0), "EDL_SOURCE_MISSING"),
])
def test_validate_rejects(clip: EdlClip, code: str) -> None:
    with pytest.raises(EditListError) as info:
        validate_edl(_edl([clip]), check_files=False)
    assert info.value.code == code


def test_validate_empty_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EditListError) as info:
        validate_edl(_edl([]), check_files=False)
    assert info.value.code == "EDL_EMPTY"
    with pytest.raises(EditListError) as info:
        validate_edl(_edl([EdlClip("s0", "x", 1.0, 2.0, 0, 0.0)], str(tmp_path / "gone.mp4")))
    assert info.value.code == "EDL_SOURCE_MISSING"


def test_retime_and_speed_duration() -> None:
    clips = retime([EdlClip("s0", "movie.mp4", 1.0, 2.25, 0, 5.0, speed=1.25),
                    EdlClip("s0", "movie.mp4", 4.0, 5.0, 0, 0.0)])
    assert clips[0].timeline_start == 0.0
    assert clips[1].timeline_start == pytest.approx(1.0)
    validate_edl(_edl(list(clips)), check_files=False)


def test_validate_clip_path_must_match_source() -> None:
    with pytest.raises(EditListError) as info:
        validate_edl(_edl([EdlClip("s0", "elsewhere.mp4", 1.0, 2.0, 0, 0.0)]), check_files=False)
    assert info.value.code == "EDL_INVALID"


def test_beat_without_clips_continues_from_previous() -> None:
    edl = build_edl(_alignment([[(10.0, 12.0)], []]), SOURCES, beat_durations={0: 2.0, 1: 1.5})
    # 1.5 s = 37.5 frames: half frames round down
    assert [(c.beat, c.src_in, c.src_out) for c in edl.clips] == [(0, 10.0, 12.0), (1, 12.0, 12.0 + 37 / FPS)]


@pytest.mark.parametrize("data", [
    {"version": 2, "clips": []},
    {"version": 1, "clips": [{"source": "s0"}]},
    {"version": 1, "sources": [{"id": "s0", "path": "x", "fps": "fast", "duration": 1}]},
    {"version": "one"},
])
def test_malformed_json(data: dict[str, object]) -> None:
    with pytest.raises(EditListError) as info:
        EditList.from_json(data)
    assert info.value.code == "EDL_INVALID"
