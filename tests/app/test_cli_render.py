"""``recap render`` end to end on the Sintel trailer with Piper narration, and its argument checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import cv2
import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from app.cli import app

SHARED = Path(__file__).resolve().parents[3] / "shared" / "media"
TRAILER = SHARED / "sintel_trailer_480x204.mp4"

SCRIPT = """# The search

Sintel travels alone through the snow and the mountains, searching for the little dragon she raised.

# The warning

An old shaman asks what brings her to the land of the gatekeepers, and he warns her of the danger ahead.

# The fight

She faces the great beast in battle, with fire all around her, and learns the truth at last.
"""


@pytest.mark.slow
@pytest.mark.skipif(not TRAILER.exists(), reason="../shared/media is absent")
def test_render_sintel_with_tts(tmp_path: Path) -> None:
    script = tmp_path / "script.md"
    script.write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "out" / "out.mp4"
    result = CliRunner().invoke(app, ["render", str(TRAILER), "--script", str(script), "--tts",
                                      "--title", "Sintel — the recap", "--burn-captions", "-o", str(out)])
    assert result.exit_code == 0, result.output
    # playable end to end, with audio, A/V lengths within a frame or two
    with av.open(str(out)) as c:
        rate = float(c.streams.video[0].average_rate)
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(str(out)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        sr = c.streams.audio[0].sample_rate
    assert frames / rate > 10
    assert abs(frames / rate - samples / sr) < 0.1
    # the delivered (AAC) audio still meets the loudness target
    from media.audio import integrated_loudness, load_audio

    audio, _ = load_audio(out, 48000, 2)
    assert integrated_loudness(audio, 48000) == pytest.approx(-14.0, abs=1.0)
    folder = out.parent
    for name in ("captions.srt", "captions.vtt", "chapters.txt", "thumbnail.jpg", "edl.json", "alignment.json",
                 "timeline.otio"):
        assert (folder / name).is_file(), name
    srt = (folder / "captions.srt").read_text(encoding="utf-8")
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> ", srt)
    first = int(stamps[0][2]) + int(stamps[0][3]) / 1000
    assert 3.0 <= first < 4.0                      # after the 3 s title card
    assert "searching for the little dragon" in srt.replace("\n", " ")
    assert cv2.imread(str(folder / "thumbnail.jpg")).shape == (720, 1280, 3)
    edl = json.loads((folder / "edl.json").read_text())
    alignment = json.loads((folder / "alignment.json").read_text())
    assert len(edl["slots"]) == len(alignment["beats"]) == 3
    timeline = otio.adapters.read_from_file(str(folder / "timeline.otio"))
    clips = timeline.tracks[0].find_clips()
    assert len(clips) == len(edl["clips"])
    for clip, raw in zip(clips, edl["clips"]):
        assert clip.source_range.start_time.to_seconds() == pytest.approx(raw["src_in"], abs=1 / 24)
        assert clip.source_range.end_time_exclusive().to_seconds() <= 52.2
    assert (folder / "narration" / "beat_000.wav").is_file()
    assert not list(folder.glob(".*part*")) and not list(folder.glob(".recap-work-*"))


@pytest.mark.parametrize(("extra", "message"), [
    (["--tts", "--narration", "SCRIPT"], "choose one of"),
    (["--profile", "4k"], "--profile"),
    (["-o", "out.avi"], "must end in"),
])
def test_bad_arguments(tmp_path: Path, extra: list[str], message: str) -> None:
    script = tmp_path / "s.md"
    script.write_text("One beat.\n")
    source = tmp_path / "src.mp4"
    source.write_bytes(b"x")
    args = ["render", str(source), "--script", str(script), *[str(script) if a == "SCRIPT" else a for a in extra]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_not_a_video_is_a_clean_error(tmp_path: Path) -> None:
    script = tmp_path / "s.md"
    script.write_text("One beat about a dragon.\n")
    source = tmp_path / "src.mp4"
    source.write_bytes(b"this is not a video")
    result = CliRunner().invoke(app, ["render", str(source), "--script", str(script), "-o", str(tmp_path / "o.mp4")])
    assert result.exit_code == 2
    assert "NOT_MEDIA" in result.output or "CORRUPT_MEDIA" in result.output
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
@pytest.mark.skipif(not TRAILER.exists(), reason="../shared/media is absent")
def test_render_recorded_narration_with_outro_and_crossfade(tmp_path: Path) -> None:
    import numpy as np

    from media.script import parse_script
    from media.tts import PiperNarrator, narrate_script, read_wav, write_wav

    script = tmp_path / "script.md"
    script.write_text(SCRIPT, encoding="utf-8")
    # a "recorded" narration: the three beats read back to back with pauses
    parts = narrate_script(parse_script(SCRIPT), tmp_path / "tts", PiperNarrator(length_scale=1.1))
    audio = [read_wav(p.narration.path)[0] for p in parts]
    pause = np.zeros(22050 * 6 // 10, np.float32)
    recording = tmp_path / "narration.wav"
    write_wav(recording, np.concatenate([audio[0], pause, audio[1], pause, audio[2]]), 22050)
    outro = tmp_path / "outro.mp4"
    from media.titlecard import write_title_clip

    write_title_clip("Thanks for watching", outro, (640, 360), 30.0, 2.0)
    out = tmp_path / "r.mp4"
    result = CliRunner().invoke(app, ["render", str(TRAILER), "--script", str(script), "--narration", str(recording),
                                      "--outro", str(outro), "--crossfade", "0.5", "--profile", "source",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        size, rate = (v.codec_context.width, v.codec_context.height), float(v.average_rate)
        frames = sum(1 for _ in c.decode(video=0))
    assert size == (480, 204)
    edl = json.loads((tmp_path / "edl.json").read_text())
    program = max(c["timeline_start"] + (c["src_out"] - c["src_in"]) / c["speed"] for c in edl["clips"])
    assert frames / rate == pytest.approx(program + 2.0 - 0.5, abs=2 / rate)
    # captions carry the script's spelling ("Sintel", "gatekeepers") at the recorded words' times
    srt = (tmp_path / "captions.srt").read_text(encoding="utf-8")
    assert "Sintel travels" in srt and "gatekeepers" in srt
    words = [w for s in parse_script(SCRIPT).beats for w in s.text.split()]
    assert srt.count("-->") >= 3 and len(" ".join(re.findall(r"^[^\d\n].*$", srt, re.M)).split()) == len(words)
