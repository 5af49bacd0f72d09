"""``recap align``: the contract JSON on stdout (only), cached analysis reuse, fallbacks and errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.media.gen import make_clip
from tests.media.test_align import BEATS, EVAL, SCENES, story_case

DEV = EVAL / "dev"


def _story_dir(tmp_path: Path) -> tuple[list[Path], Path, Path]:
    """Two episodes of the synthetic story as `recap analyse` would leave them, plus a Markdown script."""
    case = story_case(episodes=2)
    analysis = tmp_path / "analysis"
    files = []
    for src in case.sources:
        sub = analysis / Path(src.path).stem
        sub.mkdir(parents=True)
        (sub / "probe.json").write_text(json.dumps({"duration": src.duration}))
        (sub / "shots.json").write_text(json.dumps({"version": 1, "shots": [s.to_json() for s in src.shots]}))
        assert src.transcript is not None
        (sub / "transcript.json").write_text(json.dumps(src.transcript.to_json()))
        # a real (tiny) file stands for the episode; its analysis comes from the folder
        files.append(make_clip(tmp_path / src.path, [((40, 40, 40), 12)]))
    script = tmp_path / "recap.md"
    script.write_text("# The story\n\n" + "\n\n".join(BEATS) + "\n", encoding="utf-8")
    return files, script, analysis


def test_cached_analysis_gives_the_contract_on_stdout(tmp_path: Path) -> None:
    files, script, analysis = _story_dir(tmp_path)
    out = tmp_path / "res" / "alignment.json"
    result = CliRunner().invoke(app, ["align", *map(str, files), "--script", str(script), "--analysis-dir",
                                      str(analysis), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)                         # stdout is the JSON and nothing else
    assert doc == json.loads(out.read_text())
    assert doc["version"] == 1
    assert [s["id"] for s in doc["sources"]] == ["s0", "s1"]
    assert [s["path"] for s in doc["sources"]] == [str(f) for f in files]
    assert [b["index"] for b in doc["beats"]] == list(range(len(SCENES)))
    case = story_case(episodes=2)
    for beat, (src, start, end) in zip(doc["beats"], case.truth, strict=True):   # the CLI names sources s0, s1
        total = sum(c["end"] - c["start"] for c in beat["clips"])
        inside = sum(max(0.0, min(c["end"], end) - max(c["start"], start)) for c in beat["clips"]
                     if c["source"] == f"s{src}")
        assert inside > 0.5 * total > 0


def test_summary_table_without_json(tmp_path: Path) -> None:
    files, script, analysis = _story_dir(tmp_path)
    result = CliRunner().invoke(app, ["align", *map(str, files), "--script", str(script), "--analysis-dir",
                                      str(analysis)])
    assert result.exit_code == 0, result.stderr
    assert "confidence" in result.stdout and "s1" in result.stdout


def test_video_without_audio_falls_back_with_low_confidence(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "silent.mp4", [((200, 30, 30), 48), ("checker", 48), ((30, 30, 200), 48)])
    script = tmp_path / "s.txt"
    script.write_text("A red room.\n\nA checkerboard moves.\n\nA blue room.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["align", str(clip), "--script", str(script), "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert all(b["clips"] and b["confidence"] < 0.3 for b in doc["beats"])
    assert "no dialogue" in " ".join(doc["meta"]["notes"])
    mids = [(b["clips"][0]["start"] + b["clips"][-1]["end"]) / 2 for b in doc["beats"]]
    assert mids == sorted(mids)
    for b in doc["beats"]:      # the three colour scenes are three shots: cuts at 2 s and 4 s
        for c in b["clips"]:
            assert min(abs(c["start"] - t) for t in (0.0, 2.0, 4.0)) < 0.05


@pytest.mark.parametrize("case", ["missing_script", "not_media", "bad_analysis"])
def test_errors_exit_2_with_a_code(tmp_path: Path, case: str) -> None:
    files, script, analysis = _story_dir(tmp_path)
    args = ["align", str(files[0]), "--script", str(script), "--json"]
    if case == "missing_script":
        args[3] = str(tmp_path / "nope.md")
    elif case == "not_media":
        fake = tmp_path / "fake.mp4"
        fake.write_text("this is not a video")
        args[1] = str(fake)
    else:
        (analysis / files[0].stem / "shots.json").write_text("{broken")
        args += ["--analysis-dir", str(analysis)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert re.search(r"error [A-Z_]+:", result.stderr)


@pytest.mark.slow
def test_dev_case_end_to_end(tmp_path: Path) -> None:
    movie = DEV / "dev_movie.mp4"
    if not movie.is_file():
        pytest.skip(f"the dev case is not at {DEV} (../shared/eval/dev is absent)")
    result = CliRunner().invoke(app, ["align", str(movie), "--script", str(DEV / "dev_script.md"), "--json"])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "alignment.json"
    out.write_text(result.stdout)
    run = subprocess.run([sys.executable, str(EVAL / "score_alignment.py"), str(DEV / "dev_truth.json"), str(out),
                          "--json"], capture_output=True, text=True, check=True)
    metrics = json.loads(run.stdout)["system"]
    assert metrics["beat_accuracy"] >= 0.8 and metrics["order_violations"] == 0


@pytest.mark.slow
def test_narration_gives_each_beat_its_spoken_duration(tmp_path: Path) -> None:
    """Narration synthesized beat by beat (Piper, packaged voice), one wav with pauses: the targets follow it."""
    import numpy as np

    from media.tts import PiperNarrator, read_wav, write_wav

    files, script, analysis = _story_dir(tmp_path)
    narrator = PiperNarrator()
    parts, spoken, rate = [], [], 0
    for k, text in enumerate(BEATS):
        piece = narrator.narrate(text, tmp_path / f"n{k}.wav")
        samples, rate = read_wav(piece.path)
        parts += [samples, np.zeros(rate, dtype=np.float32)]
        spoken.append(piece.duration)
    wav = tmp_path / "narration.wav"
    write_wav(wav, np.concatenate(parts), rate)
    result = CliRunner().invoke(app, ["align", *map(str, files), "--script", str(script), "--analysis-dir",
                                      str(analysis), "--narration", str(wav), "--json"])
    assert result.exit_code == 0, result.stderr
    targets = [b["target_duration"] for b in json.loads(result.stdout)["beats"]]
    for target, seconds in zip(targets, spoken, strict=True):   # a beat's span takes half of each pause
        assert target == pytest.approx(seconds + 1.0, abs=1.5)
