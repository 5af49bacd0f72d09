"""``recap analyse``: probe, shots, frames and transcript JSON per source, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from app.cli import app
from media.types import Transcript
from tests.media.gen import make_clip

SHARED = Path(__file__).resolve().parents[3] / "shared" / "media"
BANANA = SHARED / "autoeditor_example_banana.mp4"
needs_media = pytest.mark.skipif(not BANANA.exists(), reason="../shared/media is absent")
FILES = {"probe.json", "shots.json", "frames.json", "transcript.json"}


def _head(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of a real file, packets copied (no re-encode): real footage, short test."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in (inp.streams.video[0], inp.streams.audio[0])}
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.dts is None or packet.pts is None:
                continue
            if float(packet.pts * packet.time_base) >= seconds:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


@needs_media
def test_analyse_real_clip_writes_all_files(tmp_path: Path) -> None:
    clip = _head(BANANA, tmp_path / "banana_head.mp4", 8.0)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyse", str(clip), "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / "banana_head"
    assert {p.name for p in folder.iterdir()} == FILES
    probe = json.loads((folder / "probe.json").read_text())
    assert probe["has_video"] and probe["has_audio"] and 7.5 < probe["duration"] < 8.6
    shots = json.loads((folder / "shots.json").read_text())
    assert shots["shots"] and shots["shots"][0]["start"] == 0.0
    assert json.loads((folder / "frames.json").read_text()) is not None
    transcript = Transcript.from_json(json.loads((folder / "transcript.json").read_text()))
    assert transcript.language == "en"
    assert "example video" in transcript.text.lower()
    assert all(0.0 <= w.start <= w.end <= 8.6 for w in transcript.words)
    assert "wrote" in result.output


def test_video_only_source_gets_an_empty_transcript(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "mute.mp4", [((250, 0, 0), 12), ((0, 0, 250), 12)], fps=12)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyse", str(clip), "--out", str(out)])
    assert result.exit_code == 0, result.output
    transcript = json.loads((out / "mute" / "transcript.json").read_text())
    assert transcript["segments"] == [] and transcript["duration"] == pytest.approx(2.0, abs=0.1)
    assert len(json.loads((out / "mute" / "shots.json").read_text())["shots"]) == 2


@pytest.mark.parametrize(("name", "content", "code"), [
    ("notes.mp4", b"this is a text file, not a video\n" * 30, "NOT_MEDIA"),
    ("empty.mp4", b"", "EMPTY_FILE"),
])
def test_bad_input_exit_code_2_and_nothing_left(tmp_path: Path, name: str, content: bytes, code: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyse", str(bad), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert code in result.output
    assert not (out / bad.stem).exists()
    assert not out.exists() or not any(out.iterdir())  # no staging folder or partial file left behind


@needs_media
def test_audio_only_is_refused_but_other_sources_still_run(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "ok.mp4", [((0, 200, 0), 12)], fps=12)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyse", str(SHARED / "jfk.flac"), str(clip), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "NO_VIDEO_STREAM" in result.output
    assert not (out / "jfk").exists()
    assert {p.name for p in (out / "ok").iterdir()} == FILES


def test_same_stem_sources_get_separate_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_clip(tmp_path / "a" / "ep.mp4", [((10, 10, 10), 6)], fps=12)
    second = make_clip(tmp_path / "b" / "ep.mp4", [((200, 200, 200), 6)], fps=12)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyse", str(first), str(second), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["ep", "ep-2"]


@pytest.mark.parametrize("args", [
    ["analyse", "--out", "x"],                        # no source
    ["analyse", "/no/such/file.mp4", "--out", "x"],   # missing source
    ["analyse", "SRC", "--out", "x", "--beam-size", "0"],
])
def test_usage_errors(tmp_path: Path, args: list[str]) -> None:
    src = make_clip(tmp_path / "s.mp4", [((1, 2, 3), 4)], fps=12)
    args = [str(src) if a == "SRC" else str(tmp_path / a) if a == "x" else a for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2


def test_bad_language_is_a_clear_error(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "s.mp4", [((1, 2, 3), 4)], fps=12)
    result = CliRunner().invoke(app, ["analyse", str(src), "--out", str(tmp_path / "o"), "--language", "??"])
    assert result.exit_code == 2 and "language" in result.output
