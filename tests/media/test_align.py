"""Alignment: synthetic stories with known answers, the real dev case scored by the real scorer.

A synthetic case lays a six-scene story's dialogue on a timeline (silent footage between scenes,
cuts on scene edges and every few seconds inside) and a recap that paraphrases each scene.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from media._align_score import solve_order
from media._align_text import Lexicon, Unit, Window, build_units, build_windows, lexical_matrix, split_sentences, tokens
from media.align import AlignOptions, AlignSource, align
from media.embed import Embedder
from media.errors import CancelledError, InputError
from media.types import Alignment, Beat, Script, Segment, Shot, Transcript, Word

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"
DEV = EVAL / "dev"

SCENES: tuple[tuple[str, ...], ...] = (
    ("Welcome aboard the Aurora, Captain Reyes.", "The crew has loaded the cargo of frozen vaccines for the colony.",
     "We leave orbit at dawn and reach Titan station in nine days."),
    ("Engineer Malik, why is the reactor running so hot?", "The coolant pump failed an hour ago and I cannot fix it "
     "alone.", "If the core overheats, the whole ship will explode."),
    ("Grandma Lucia baked forty loaves of bread for the village festival.", "The children carried baskets of "
     "apples to the square.", "A brass band played while couples danced under paper lanterns."),
    ("Detective Okafor found muddy footprints beside the broken window.", "The diamond necklace is gone and the "
     "safe was opened with a key.", "Only the butler had a copy of that key."),
    ("The avalanche buried the mountain road under ten metres of snow.", "Rescue dogs searched for the missing "
     "skiers through the night.", "At sunrise a helicopter lifted the survivors to the hospital."),
    ("Professor Chen presented the robot to the university board.", "It can sort recycling and answer questions "
     "in twelve languages.", "The board voted to fund a factory that will build a thousand of them."),
)

BEATS: tuple[str, ...] = (
    "Captain Reyes welcomes us on the Aurora, a ship carrying vaccines to a distant colony on Titan.",
    "Trouble strikes when engineer Malik reports that the reactor is overheating and could blow up the ship.",
    "Meanwhile, in a village, grandmother Lucia bakes bread for the festival while music and dancing fill the square.",
    "Detective Okafor investigates a stolen diamond necklace and suspects the butler, who held the key.",
    "An avalanche traps skiers on the mountain; dogs and a helicopter bring the survivors to safety.",
    "Finally, Professor Chen shows a recycling robot that speaks many languages, and the board funds a factory.",
)

# The same recap in German: the English-only model reads it poorly, so confidence must drop.
BEATS_DE: tuple[str, ...] = (
    "Kapitänin Reyes begrüßt uns auf der Aurora, einem Schiff, das Impfstoffe zu einer fernen Kolonie bringt.",
    "Dann meldet der Ingenieur Malik, dass der Reaktor überhitzt und das Schiff explodieren könnte.",
    "Unterdessen backt Großmutter Lucia im Dorf Brot für das Fest, während Musik und Tanz den Platz füllen.",
    "Kommissar Okafor untersucht eine gestohlene Diamantkette und verdächtigt den Butler, der den Schlüssel hatte.",
    "Eine Lawine schließt Skifahrer am Berg ein; Hunde und ein Hubschrauber retten die Überlebenden.",
    "Zum Schluss zeigt Professorin Chen einen Roboter, der viele Sprachen spricht, und der Vorstand zahlt eine Fabrik.",
)

WORD, PAUSE, GAP, LEAD, SHOT = 0.35, 0.5, 6.0, 0.75, 3.0  # seconds: per word, between lines, between scenes, ...


@dataclass(frozen=True)
class Case:
    script: Script
    sources: list[AlignSource]
    truth: list[tuple[int, float, float]]   # per beat: source index, scene start, scene end
    boundaries: list[set[float]]            # per source: every shot boundary


def _scene(lines: Sequence[str], t: float) -> tuple[list[Segment], float]:
    segs = []
    for line in lines:
        words = []
        for tok in line.split():
            words.append(Word(round(t, 3), round(t + WORD * 0.9, 3), " " + tok))
            t += WORD
        segs.append(Segment(words[0].start, words[-1].end, line, tuple(words)))
        t += PAUSE
    return segs, t - PAUSE


def _source(sid: str, scenes: Sequence[Sequence[str]], speech: bool, unusable: Sequence[tuple[float, float]]
            ) -> tuple[AlignSource, list[tuple[float, float]], set[float]]:
    t, segs, spans, cuts = GAP, [], [], {0.0}
    for lines in scenes:
        start = t
        scene_segs, end_speech = _scene(lines, start + LEAD)
        end = round(end_speech + LEAD, 3)
        segs.extend(scene_segs)
        spans.append((start, end))
        cuts.update({start, end, *(round(k, 3) for k in np.arange(start + SHOT, end - 1.0, SHOT))})
        t = end + GAP
    cuts.add(t)
    edges = sorted(cuts)
    shots = [Shot(a, b, round(a * 24), round(b * 24)) for a, b in itertools.pairwise(edges)]
    transcript = Transcript("en", t, tuple(segs)) if speech else None
    return AlignSource(sid, f"{sid}.mp4", t, shots, transcript, unusable), spans, set(edges)


def story_case(*, beats: Sequence[str] = BEATS, order: Sequence[int] | None = None, episodes: int = 1,
               speech: bool = True, unusable: Sequence[tuple[float, float]] = (),
               targets: Sequence[float] | None = None) -> Case:
    """The six-scene story over ``episodes`` sources; ``order`` permutes the script's beats."""
    order = list(order) if order is not None else list(range(len(SCENES)))
    per = -(-len(SCENES) // episodes)
    sources, boundaries = [], []
    where: list[tuple[int, float, float]] = []
    for e in range(episodes):
        src, spans, cuts = _source(f"ep{e + 1}", SCENES[e * per:(e + 1) * per], speech, unusable if e == 0 else ())
        sources.append(src)
        boundaries.append(cuts)
        where.extend((e, a, b) for a, b in spans)
    script_beats = tuple(Beat(i, beats[k], target_duration=0.0 if targets is None else targets[i])
                         for i, k in enumerate(order))
    return Case(Script("Story", (), script_beats), sources, [where[k] for k in order], boundaries)


def beat_hits(case: Case, result: Alignment) -> list[bool]:
    """Per beat: more than half of its clip seconds inside its scene (the scorer's rule, no tolerance)."""
    hits = []
    for beat, (src, a, b) in zip(result.beats, case.truth, strict=True):
        total = sum(c.duration for c in beat.clips)
        inside = sum(max(0.0, min(c.end, b) - max(c.start, a)) for c in beat.clips
                     if c.source == case.sources[src].id)
        hits.append(total > 0 and inside > 0.5 * total)
    return hits


def order_violations(result: Alignment, sources: Sequence[AlignSource]) -> int:
    offset = dict(zip([s.id for s in sources], itertools.accumulate([0.0, *[s.duration for s in sources]]),
                      strict=False))
    mids = [sum((offset[c.source] + (c.start + c.end) / 2) * c.duration for c in b.clips)
            / sum(c.duration for c in b.clips) for b in result.beats if b.clips]
    return sum(1 for i, j in itertools.combinations(range(len(mids)), 2) if mids[i] > mids[j])


def assert_valid(result: Alignment, sources: Sequence[AlignSource]) -> None:
    """Contract invariants: sources and beats in order, clips inside sources, no footage used twice."""
    assert [s.id for s in result.sources] == [s.id for s in sources]
    assert [b.index for b in result.beats] == sorted(b.index for b in result.beats)
    dur = {s.id: s.duration for s in sources}
    spans = sorted((c.source, c.start, c.end) for b in result.beats for c in b.clips)
    for src, a, b in spans:
        assert 0.0 <= a < b <= dur[src] + 1e-6
    for (s1, _a1, b1), (s2, a2, _b2) in itertools.pairwise(spans):
        assert s1 != s2 or b1 <= a2 + 1e-6, "footage reused across beats"
    for beat in result.beats:
        assert 0.0 <= beat.confidence <= 1.0
        assert all(0.0 <= c.score <= 1.0 for c in beat.clips)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


def score(truth: dict[str, object], result: Alignment, tmp_path: Path) -> dict[str, float]:
    """Run the real scorer (``../shared/eval/score_alignment.py --json``) on ``result``."""
    scorer = EVAL / "score_alignment.py"
    if not scorer.is_file():
        pytest.skip(f"the scorer is not at {scorer} (../shared/eval is absent)")
    truth_path, out_path = tmp_path / "truth.json", tmp_path / "alignment.json"
    truth_path.write_text(json.dumps(truth))
    out_path.write_text(json.dumps(result.to_json()))
    run = subprocess.run([sys.executable, str(scorer), str(truth_path), str(out_path), "--json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    metrics: dict[str, float] = json.loads(run.stdout)["system"]
    return metrics


# ---------------------------------------------------------------- synthetic cases with known answers

def test_story_in_order_is_placed_exactly(embedder: Embedder, tmp_path: Path) -> None:
    case = story_case()
    result = align(case.script, case.sources, embedder=embedder)
    assert_valid(result, case.sources)
    assert all(beat_hits(case, result))
    assert order_violations(result, case.sources) == 0
    assert min(b.confidence for b in result.beats) > 0.6
    truth = {"movie": "ep1.mp4", "duration": case.sources[0].duration,
             "beats": [{"index": i, "start": a, "end": b} for i, (_, a, b) in enumerate(case.truth)]}
    metrics = score(truth, result, tmp_path)
    assert metrics["beat_accuracy"] == 1.0 and metrics["order_violations"] == 0 and metrics["coverage"] == 1.0
    assert metrics["clip_accuracy"] >= 0.9


def test_clips_cut_on_shot_boundaries_and_fill_the_target(embedder: Embedder) -> None:
    case = story_case(targets=[30.0] * len(SCENES))      # more than a scene holds: whole scenes, on cuts
    result = align(case.script, case.sources, embedder=embedder)
    assert all(beat_hits(case, result))
    cuts = case.boundaries[0]
    for beat in result.beats:
        for c in beat.clips:
            assert min(abs(c.start - t) for t in cuts) < 1e-3 and min(abs(c.end - t) for t in cuts) < 1e-3
    short = story_case(targets=[4.0] * len(SCENES))
    result = align(short.script, short.sources, embedder=embedder)
    assert all(beat_hits(short, result))
    for beat in result.beats:   # never much over the target; under it only where the matched speech is short
        assert 2.0 <= sum(c.duration for c in beat.clips) <= 4.0 + AlignOptions().max_overshoot + 1e-6


@pytest.mark.parametrize(("back_penalty", "expect_all_right"), [(0.0, True), (1000.0, False)])
def test_going_back_costs_the_back_penalty(embedder: Embedder, back_penalty: float, expect_all_right: bool) -> None:
    case = story_case(order=[0, 1, 4, 2, 3, 5])          # the recap tells scene 4 before scenes 2 and 3
    result = align(case.script, case.sources, AlignOptions(back_penalty=back_penalty, reorder=True),
                   embedder=embedder)
    assert_valid(result, case.sources)
    hits = beat_hits(case, result)
    if expect_all_right:
        assert all(hits)
    else:  # a prohibitive penalty keeps script order in the footage, whatever the evidence says
        assert order_violations(result, case.sources) == 0
        assert not all(hits)


def test_episodes_are_aligned_across_sources(embedder: Embedder) -> None:
    case = story_case(episodes=2)
    result = align(case.script, case.sources, embedder=embedder)
    assert_valid(result, case.sources)
    assert all(beat_hits(case, result))
    assert [b.clips[0].source for b in result.beats] == ["ep1"] * 3 + ["ep2"] * 3
    assert order_violations(result, case.sources) == 0


def test_no_dialogue_falls_back_to_order_and_duration(embedder: Embedder) -> None:
    case = story_case(speech=False)
    result = align(case.script, case.sources, embedder=embedder)
    assert_valid(result, case.sources)
    assert all(b.clips and b.confidence < 0.3 for b in result.beats)
    assert order_violations(result, case.sources) == 0
    assert "no dialogue" in " ".join(result.meta["notes"])
    # beats are spread over the whole footage in order: the first early, the last late
    assert result.beats[0].clips[0].start < case.sources[0].duration / 4
    assert result.beats[-1].clips[-1].end > case.sources[0].duration * 3 / 4


def test_script_in_another_language_works_with_lower_confidence(embedder: Embedder) -> None:
    english = align(story_case().script, story_case().sources, embedder=embedder)
    case = story_case(beats=BEATS_DE)
    german = align(case.script, case.sources, embedder=embedder)
    assert_valid(german, case.sources)
    assert all(b.clips for b in german.beats)
    assert order_violations(german, case.sources) == 0
    mean_en = np.mean([b.confidence for b in english.beats])
    mean_de = np.mean([b.confidence for b in german.beats])
    assert mean_de < mean_en  # weaker evidence, lower (calibrated) confidence


def test_unusable_ranges_are_never_used(embedder: Embedder) -> None:
    blocked = (0.0, 40.0)                                 # covers scene 0 and most of scene 1
    case = story_case(unusable=[blocked])
    result = align(case.script, case.sources, embedder=embedder)
    assert_valid(result, case.sources)
    for beat in result.beats:
        for c in beat.clips:
            assert c.end <= blocked[0] + 1e-6 or c.start >= blocked[1] - 1e-6
    assert all(beat_hits(case, result)[2:])               # scenes that stay usable are still found
    assert result.beats[0].confidence <= 0.3              # its own scene is gone: footage elsewhere, said plainly


def test_progress_and_cancel(embedder: Embedder) -> None:
    case = story_case()
    seen: list[float] = []
    align(case.script, case.sources, embedder=embedder, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(CancelledError):
        align(case.script, case.sources, embedder=embedder, cancel=lambda: True)


def test_empty_inputs_are_refused(embedder: Embedder) -> None:
    case = story_case()
    with pytest.raises(InputError):
        align(Script(None, (), ()), case.sources, embedder=embedder)
    with pytest.raises(InputError):
        align(case.script, [], embedder=embedder)


@pytest.mark.parametrize("bad", [{"back_penalty": -1.0}, {"scales": ()}, {"scales": (0.0,)}, {"sentence_weight": 2.0},
                                 {"words_per_second": 0.0}, {"fuzzy_cutoff": 0.0}, {"unit_max_words": 0},
                                 {"min_clip": 0.0}])
def test_options_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AlignOptions(**bad)  # type: ignore[arg-type]


def test_source_is_validated() -> None:
    with pytest.raises(ValueError):
        AlignSource("", "a.mp4", 10.0)
    with pytest.raises(ValueError):
        AlignSource("s0", "a.mp4", 0.0)


# ---------------------------------------------------------------- pieces with known answers

def test_order_dp_finds_the_best_monotone_path() -> None:
    windows = [Window(u, u, 0, "") for u in range(4)]
    score = np.array([[0, 5, 0, 0], [9, 0, 0, 1], [0, 0, 3, 0]], dtype=np.float32)
    # going back to unit 0 for beat 1 (9 - penalty) pays only when the penalty is small
    assert solve_order(score, windows, 4, back_penalty=1.0) == [1, 0, 2]
    for penalty in (1.0, 4.0, 100.0):
        def total(p: Sequence[int], penalty: float = penalty) -> float:
            return float(sum(score[i, p[i]] for i in range(3)) - penalty * sum(p[i] <= p[i - 1] for i in (1, 2)))
        brute = max(itertools.product(range(4), repeat=3), key=total)
        assert total(solve_order(score, windows, 4, back_penalty=penalty)) == pytest.approx(total(brute))


def test_units_split_on_sentences_pauses_and_stretched_words() -> None:
    words = [Word(0.0, 0.3, " Hello"), Word(0.3, 0.6, " Mr."), Word(0.6, 0.9, " Smith."), Word(2.0, 2.3, " After"),
             Word(2.3, 4.9, " pause"), Word(5.0, 5.3, " next")]
    units = build_units(words, 10.0, 0, max_words=16, max_gap=0.6)
    assert [u.text for u in units] == ["Hello Mr. Smith.", "After pause", "next"]
    assert units[0].start == 10.0 and units[-1].end == 15.3
    assert split_sentences("Mr. Dashwood came. He left!  Then? ok") == ["Mr. Dashwood came.", "He left!", "Then?", "ok"]


def test_windows_cover_every_unit_at_every_scale() -> None:
    units = [Unit(float(2 * k), float(2 * k + 1.5), f"u{k}", 0 if k < 10 else 1) for k in range(20)]
    windows = build_windows(units, (5.0, 9.0))
    assert {(w.first, w.last) for w in windows if w.scale == 0} == {(k, k) for k in range(20)}
    for w in windows:   # never across sources, never longer than the scale
        assert units[w.first].source == units[w.last].source
        assert w.scale == 0 or units[w.last].end - units[w.first].start <= (5.0, 9.0)[w.scale - 1]


def test_lexical_cues_match_mangled_names_and_numbers() -> None:
    heard = ["Thursday night, the Marydong will be out there.", "We need forty loaves of bread.",
             "The weather is nice today.", "Mary went home."]
    script = ["Then the Mary Dawn is caught in the storm.", "They bake 40 loaves."]
    lex = Lexicon([tokens(t) for t in heard], script, fuzzy_cutoff=0.75)
    assert lex.alias["marydawn"] == ["marydong"]          # a two-word name heard as one mangled word
    m = lexical_matrix(lex, script, heard)
    assert m[0].argmax() == 0 and m[0, 0] > m[0, 3] > 0 and m[0, 2] == 0
    assert m[1].argmax() == 1 and m[1, 2] == 0
    assert tokens("Forty-two 12th Mary's") == ["40", "2", "12", "mary"]


# ---------------------------------------------------------------- the real dev case

def _paragraph_beats(text: str) -> Script:
    """Beats per the contract: paragraphs separated by blank lines; a line starting with # is a heading."""
    paras = [" ".join(p.split()) for p in text.split("\n\n")]
    beats = [p for p in paras if p and not p.startswith("#")]
    return Script(None, (), tuple(Beat(i, t) for i, t in enumerate(beats)))


@pytest.fixture(scope="session")
def dev_source(tmp_path_factory: pytest.TempPathFactory) -> AlignSource:
    """The dev movie analysed by the real shot detector and transcriber (once per session)."""
    movie = DEV / "dev_movie.mp4"
    if not movie.is_file():
        pytest.skip(f"the dev case is not at {DEV} (../shared/eval/dev is absent)")
    from media.analysis import AnalysisOptions, analyse_video
    from media.speech import FasterWhisperTranscriber

    analysis = analyse_video(movie, AnalysisOptions(frame_stats=False))
    transcript = FasterWhisperTranscriber().transcribe(movie)
    return AlignSource("s0", str(movie), analysis.probe.duration, analysis.shots, transcript)


@pytest.mark.slow
def test_dev_case_scores_well_with_the_real_scorer(embedder: Embedder, dev_source: AlignSource,
                                                   tmp_path: Path) -> None:
    script = _paragraph_beats((DEV / "dev_script.md").read_text(encoding="utf-8"))
    result = align(script, [dev_source], embedder=embedder)
    assert_valid(result, [dev_source])
    truth = json.loads((DEV / "dev_truth.json").read_text(encoding="utf-8"))
    metrics = score(truth, result, tmp_path)
    assert metrics["beat_accuracy"] >= 0.8
    assert metrics["clip_accuracy"] >= 0.7
    assert metrics["order_violations"] == 0
    assert metrics["coverage"] == 1.0


# The dev recap rewritten far from the dialogue (written for this test; no names, few shared words).
HARD_SCRIPT = """# Harder paraphrase

We begin with a passage from a classic book about a wealthy heir pondering his duty toward his stepfamily.

A delivery arrives at an isolated tower in the ocean, and among the supplies there is something unexpected for its \
lonely guardian.

A famous political address interrupts, calling on people to serve their country instead of expecting favours.

His estranged child writes that she will return by ship within days.

An official broadcast announces bad weather, and the old man fears for the vessel carrying his daughter.

A presenter in front of a colored backdrop talks about licensing his recording and a timer in the frame, teasing a \
word he will say later.

Sailors in trouble send an emergency message, and the old man guides them with instructions.

A girl with a sword speaks to a stranger about her search in a cold land.

A dramatic rescue in the waves reunites father and daughter.

At dawn everyone is safe, and the daughter decides to remain with him.
"""


@pytest.mark.slow
def test_dev_case_survives_a_far_paraphrase(embedder: Embedder, dev_source: AlignSource, tmp_path: Path) -> None:
    result = align(_paragraph_beats(HARD_SCRIPT), [dev_source], embedder=embedder)
    truth = json.loads((DEV / "dev_truth.json").read_text(encoding="utf-8"))
    metrics = score(truth, result, tmp_path)
    assert metrics["beat_accuracy"] >= 0.7      # 0.8 when written; the order keeps the misses near
    assert metrics["order_violations"] == 0
