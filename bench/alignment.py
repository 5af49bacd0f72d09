"""Benchmark: script-to-footage alignment on the dev case, against the scorer's uniform baseline.

    .venv/bin/python bench/alignment.py [--quick]

Measures, in one run: the analysis inputs (shots + transcript, once, not part of align), the model load,
align() itself (embedding + lexical + DP + clip picking; the embedding cache is off so every run pays
in full), the uniform baseline (beat i gets the i-th equal slice), both scored by
../shared/eval/score_alignment.py; then align() time against source length, on the dev transcript
repeated end to end (the work grows with the transcript, not with its square). Writes
bench/results/alignment.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.align import AlignSource, align  # noqa: E402
from media.embed import Embedder  # noqa: E402
from media.script import load_script  # noqa: E402
from media.types import Alignment, BeatAlignment, Clip, Script, Segment, Shot, SourceRef, Transcript, Word  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
DEV = EVAL / "dev"


def _inputs() -> tuple[AlignSource, float]:
    from media.analysis import AnalysisOptions, analyse_video
    from media.speech import FasterWhisperTranscriber

    movie = DEV / "dev_movie.mp4"
    t0 = time.perf_counter()
    analysis = analyse_video(movie, AnalysisOptions(frame_stats=False))
    transcript = FasterWhisperTranscriber().transcribe(movie)
    took = time.perf_counter() - t0
    return AlignSource("s0", str(movie), analysis.probe.duration, analysis.shots, transcript), took


def _uniform(script: Script, src: AlignSource) -> Alignment:
    n = len(script.beats)
    beats = tuple(BeatAlignment(b.index, b.text, b.target_duration, 0.0,
                                (Clip(src.id, src.duration * i / n, src.duration * (i + 1) / n),))
                  for i, b in enumerate(script.beats))
    return Alignment((SourceRef(src.id, src.path, src.duration),), beats)


def _score(result: Alignment) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(result.to_json(), fh)
    run = subprocess.run([sys.executable, str(EVAL / "score_alignment.py"), str(DEV / "dev_truth.json"), fh.name,
                          "--json"], capture_output=True, text=True, check=True)
    Path(fh.name).unlink()
    metrics: dict[str, float] = json.loads(run.stdout)["system"]
    return metrics


def _repeated(src: AlignSource, k: int) -> AlignSource:
    """The dev source laid end to end ``k`` times (transcript and shots shifted), as one long source."""
    assert src.transcript is not None
    segs: list[Segment] = []
    shots: list[Shot] = []
    for r in range(k):
        off = r * src.duration
        segs.extend(Segment(s.start + off, s.end + off, s.text,
                            tuple(Word(w.start + off, w.end + off, w.text, w.probability) for w in s.words))
                    for s in src.transcript.segments)
        shots.extend(Shot(s.start + off, s.end + off, 0, 0) for s in src.shots)
    return replace(src, duration=src.duration * k, shots=shots,
                   transcript=Transcript("en", src.duration * k, tuple(segs)))


def _timed(script: Script, src: AlignSource, emb: Embedder, runs: int) -> tuple[float, Alignment]:
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = align(script, [src], embedder=emb)
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one timed run, shorter scaling series")
    args = ap.parse_args()
    if not (DEV / "dev_movie.mp4").is_file():
        sys.exit(f"the dev case is not at {DEV}")
    runs = 1 if args.quick else 3
    script = load_script(DEV / "dev_script.md")
    src, analysis_s = _inputs()
    t0 = time.perf_counter()
    emb = Embedder(cache_size=0)
    load_s = time.perf_counter() - t0
    align_s, result = _timed(script, src, emb, runs)
    t0 = time.perf_counter()
    baseline = _uniform(script, src)
    uniform_s = time.perf_counter() - t0
    system, uniform = _score(result), _score(baseline)
    scaling = []
    for k in (1, 4) if args.quick else (1, 4, 8, 16):
        took, res = _timed(script, _repeated(src, k), emb, 1)
        scaling.append({"source_minutes": round(src.duration * k / 60, 2), "align_s": round(took, 3),
                        "units": res.meta.get("units"), "windows": res.meta.get("windows"),
                        "s_per_source_minute": round(took / (src.duration * k / 60), 3)})
    n = len(script.beats)
    out = {"case": "dev", "beats": n, "source_s": round(src.duration, 3), "runs": runs,
           "analysis_inputs_s": round(analysis_s, 2), "model_load_s": round(load_s, 2),
           "align_s": round(align_s, 3), "align_per_beat_ms": round(1000 * align_s / n, 1),
           "uniform_s": uniform_s, "align_over_uniform": round(align_s / max(uniform_s, 1e-9)),
           "score": {"system": system, "uniform": uniform}, "scaling": scaling,
           "meta": {k: v for k, v in result.meta.items() if k != "notes"}}
    print(f"align() on the dev case ({src.duration:.0f} s, {n} beats): {align_s:.2f} s "
          f"({1000 * align_s / n:.0f} ms per beat; model load {load_s:.1f} s once; shots+transcript "
          f"{analysis_s:.1f} s once)")
    print(f"uniform baseline: {uniform_s * 1e6:.0f} us  -> align costs {align_s / max(uniform_s, 1e-9):,.0f}x")
    print(f"{'metric':<18}{'system':>10}{'uniform':>10}")
    for key in ("beat_accuracy", "clip_accuracy", "sentence_iou", "order_violations", "coverage"):
        print(f"{key:<18}{system[key]:>10}{uniform[key]:>10}")
    print("scaling (dev transcript repeated):")
    for row in scaling:
        print(f"  {row['source_minutes']:>6} min  {row['align_s']:>7} s  {row['s_per_source_minute']} s/min "
              f"({row['units']} units, {row['windows']} windows)")
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "alignment.json").write_text(json.dumps(out, indent=1))
    print(f"wrote {res_dir / 'alignment.json'}")


if __name__ == "__main__":
    main()
