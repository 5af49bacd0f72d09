"""NLE export: OTIO round trip with exact source ranges, CMX 3600 EDL and FCP XML read back."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest

from media.edl import BeatSlot, EditList, EdlClip, EdlSource, NarrationSpan, retime
from media.export import ExportError, edl_to_timeline, export_timeline, read_timeline

FPS = {"s0": 24.0, "s1": 30000 / 1001}
# (source, first frame, frame count, beat)
CUTS = [("s0", 48, 72, 0), ("s0", 300, 25, 0), ("s1", 1000, 120, 1), ("s0", 12, 1, 2), ("s1", 5, 47, 2)]


def _edl(tmp_path: Path) -> EditList:
    sources = (EdlSource("s0", str(tmp_path / "movie one.mp4"), FPS["s0"], 600.0),
               EdlSource("s1", str(tmp_path / "episode_2.mkv"), FPS["s1"], 1200.0))
    clips = retime(EdlClip(s, str(tmp_path / ("movie one.mp4" if s == "s0" else "episode_2.mkv")),
                           a / FPS[s], (a + n) / FPS[s], beat, 0.0) for s, a, n, beat in CUTS)
    slots = []
    for beat in range(3):
        mine = [c for c in clips if c.beat == beat]
        dur = sum(c.duration for c in mine)
        slots.append(BeatSlot(beat, mine[0].timeline_start, dur,
                              NarrationSpan(str(tmp_path / f"beat_{beat:03d}.wav"), 0.0, dur * 0.9)))
    return EditList(sources, tuple(slots), clips)


def _video_ranges(timeline: otio.schema.Timeline) -> list[tuple[float, float, float]]:
    track = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    return [(c.source_range.start_time.value, c.source_range.duration.value, c.source_range.start_time.rate)
            for c in track.find_clips()]


def test_otio_round_trip_keeps_source_ranges(tmp_path: Path) -> None:
    edl = _edl(tmp_path)
    paths = export_timeline(edl_to_timeline(edl, "Sintel \x00recap"), tmp_path, formats=("otio",))
    back = read_timeline(paths["otio"])
    assert back.name == "Sintel recap"
    assert _video_ranges(back) == [(a, n, FPS[s]) for s, a, n, _ in CUTS]
    clips = list(back.tracks[0].find_clips())
    assert Path(otio.url_utils.filepath_from_url(clips[0].media_reference.target_url)).name == "movie one.mp4"
    assert clips[2].media_reference.available_range.duration.to_seconds() == pytest.approx(1200.0, abs=0.05)
    assert clips[2].metadata["recap"]["beat"] == 1
    audio = back.tracks[1]
    assert audio.kind == otio.schema.TrackKind.Audio and len(list(audio.find_clips())) == 3
    # the narration clip of beat 1 starts where beat 1's slot starts
    beat1 = next(c for c in audio.find_clips() if c.name == "narration b1")
    start = audio.range_of_child(beat1).start_time.to_seconds()
    assert start == pytest.approx(edl.slots[1].start, abs=1 / 24)
    assert back.duration().to_seconds() == pytest.approx(edl.duration, abs=1 / 24)


def test_cmx3600_and_fcp_xml_read_back(tmp_path: Path) -> None:
    edl = _edl(tmp_path)
    # CMX 3600 holds one rate; use the 24 fps cuts only
    one_rate = EditList(edl.sources[:1], edl.slots[:1], retime(c for c in edl.clips if c.source == "s0"))
    paths = export_timeline(edl_to_timeline(one_rate), tmp_path, formats=("edl", "xml"))
    text = paths["edl"].read_text()
    assert "TITLE:" in text and text.count(" V ") >= 3
    cmx = read_timeline(paths["edl"], rate=24)
    assert _video_ranges(cmx) == [(a, n, 24.0) for s, a, n, _ in CUTS if s == "s0"]
    xml = read_timeline(paths["xml"])
    assert [(a, n) for a, n, _ in _video_ranges(xml)] == [(a, n) for s, a, n, _ in CUTS if s == "s0"]


def test_speed_change_becomes_time_warp(tmp_path: Path) -> None:
    src = EdlSource("s0", str(tmp_path / "m.mp4"), 25.0, 100.0)
    edl = EditList((src,), (), (EdlClip("s0", src.path, 2.0, 4.5, 0, 0.0, speed=1.25),))
    clip = edl_to_timeline(edl).find_clips()[0]
    assert isinstance(clip.effects[0], otio.schema.LinearTimeWarp) and clip.effects[0].time_scalar == 1.25


def test_bad_format_and_unwritable_dir(tmp_path: Path) -> None:
    timeline = edl_to_timeline(_edl(tmp_path))
    with pytest.raises(ValueError, match="unknown export format"):
        export_timeline(timeline, tmp_path, formats=("aaf",))
    with pytest.raises((ExportError, Exception)) as ex:
        export_timeline(timeline, tmp_path / "missing" / "dir", formats=("otio",))
    assert getattr(ex.value, "code", "") in ("OUTPUT_FAILED", "EXPORT_FAILED")
    assert not list((tmp_path).glob(".*.part"))
