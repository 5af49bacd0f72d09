"""Run the aligner over the evaluation suite and score every case with the shared scorer.

    PYTHONPATH=$PWD .venv/bin/python -m eval.run [--asr tiny.en base] [--cases A_clean ...]
        [--opt back_penalty=inf ...] [--tag NAME]

Per case and ASR model, shots (``recap``'s own detector) and the transcript are computed once and
cached in ``eval/out/<case>/analysis/``; the alignment is redone every run. Each alignment is scored by
``../shared/eval/score_alignment.py --json``; the tables (tuned and held-out separately), word error
rates, and a reliability table with the expected calibration error of the confidences are printed and
written to ``eval/out/results/<tag>.json``. The shared dev case is part of the tuned split.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = (ROOT / ".." / "shared").resolve()
if not (SHARED / "eval").is_dir():
    SHARED = Path("/work/shared")
SCORER = SHARED / "eval" / "score_alignment.py"
OUT = ROOT / "eval" / "out"


def cases(out: Path) -> list[tuple[str, Path, Path, Path, str]]:
    """(name, movie, script, truth, split) for every built case plus the shared dev case."""
    found = []
    dev = SHARED / "eval" / "dev"
    if dev.is_dir():
        found.append(("dev", dev / "dev_movie.mp4", dev / "dev_script.md", dev / "dev_truth.json", "tune"))
    for truth in sorted(out.glob("*/truth.json")):
        t = json.loads(truth.read_text())
        found.append((truth.parent.name, truth.parent / "movie.mp4", truth.parent / "script.md", truth,
                      str(t.get("split", "tune"))))
    return found


def _analysis(name: str, movie: Path, asr: str, out: Path) -> tuple[float, list[Any], Any, float]:
    from media.analysis import AnalysisOptions, analyse_video
    from media.asr_models import whisper_model_dir
    from media.speech import FasterWhisperTranscriber, TranscribeOptions
    from media.types import Shot, Transcript

    adir = out / name / "analysis"
    adir.mkdir(parents=True, exist_ok=True)
    shots_f, tr_f = adir / "shots.json", adir / f"transcript-{asr}.json"
    if not shots_f.is_file():
        a = analyse_video(movie, AnalysisOptions(frame_stats=False))
        shots_f.write_text(json.dumps({"duration": a.probe.duration, "shots": [s.to_json() for s in a.shots]}))
    sj = json.loads(shots_f.read_text())
    asr_s = 0.0
    if not tr_f.is_file():
        t0 = time.perf_counter()
        tr = FasterWhisperTranscriber(whisper_model_dir(asr)).transcribe(movie, TranscribeOptions(language="en"))
        asr_s = time.perf_counter() - t0
        tr_f.write_text(json.dumps({"asr_seconds": asr_s, **tr.to_json()}))
    tj = json.loads(tr_f.read_text())
    return float(sj["duration"]), [Shot.from_json(s) for s in sj["shots"]], Transcript.from_json(tj), \
        float(tj.get("asr_seconds", asr_s))


_NUM = {"eighteen": "18", "ninety": "90", "two": "2"}


def _norm_words(text: str) -> list[str]:
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    return [w for w in re.sub(r"[^a-z0-9' ]+", " ", text).split() if w]


def wer(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(edits, reference words)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def case_wer(truth: dict[str, Any], transcript: Any) -> tuple[int, int] | None:
    """Pooled over the scenes whose text is known exactly (TTS input, LibriVox and JFK references)."""
    scenes = truth.get("scenes")
    if not scenes:
        return None
    words = transcript.words
    edits = total = 0
    for sc in scenes:
        if not sc["lines"] or sc.get("real") == "autoeditor_example_banana.mp4":
            continue
        ref = _norm_words(sc["text"])
        hyp = _norm_words(" ".join(w.text for w in words if sc["start"] <= (w.start + w.end) / 2 < sc["end"]))
        e, n = wer(ref, hyp)
        edits, total = edits + e, total + n
    return edits, total


def score(truth: Path, alignment: Path) -> dict[str, Any]:
    res = subprocess.run([sys.executable, str(SCORER), str(truth), str(alignment), "--json"],
                         capture_output=True, text=True, check=True)
    return dict(json.loads(res.stdout))


def parse_opts(items: list[str]) -> dict[str, Any]:
    from media.align import AlignOptions

    types = {f.name: f.type for f in fields(AlignOptions)}
    out: dict[str, Any] = {}
    for it in items:
        k, v = it.split("=", 1)
        if k not in types:
            raise SystemExit(f"unknown option {k}")
        t = str(types[k])
        out[k] = (v.lower() in ("1", "true", "yes")) if "bool" in t else \
            (int(v) if t == "int" else (tuple(float(x) for x in v.split(",")) if "tuple" in t else
                                        (v if t == "str" else float(v))))
    return out


def reliability(pairs: list[tuple[float, bool]], bins: int = 5) -> tuple[list[dict[str, Any]], float]:
    table, ece, n = [], 0.0, max(len(pairs), 1)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(c, ok) for c, ok in pairs if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not sel:
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": 0, "mean_conf": None, "accuracy": None})
            continue
        mc = sum(c for c, _ in sel) / len(sel)
        acc = sum(ok for _, ok in sel) / len(sel)
        ece += len(sel) / n * abs(mc - acc)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(sel), "mean_conf": round(mc, 3), "accuracy": round(acc, 3)})
    return table, ece


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--asr", nargs="+", default=["tiny.en"])
    ap.add_argument("--cases", nargs="*", default=None)
    ap.add_argument("--opt", nargs="*", default=[])
    ap.add_argument("--tag", default="latest")
    args = ap.parse_args(argv)
    from media.align import AlignOptions, AlignSource, align
    from media.embed import Embedder
    from media.script import load_script

    options = AlignOptions(**parse_opts(args.opt))
    emb = Embedder()
    rows: list[dict[str, Any]] = []
    for asr in args.asr:
        for name, movie, script, truth_f, split in cases(args.out):
            if args.cases and name not in args.cases:
                continue
            duration, shots, transcript, asr_s = _analysis(name, movie, asr, args.out)
            truth = json.loads(truth_f.read_text())
            src = AlignSource("s0", str(movie), duration, shots, transcript)
            t0 = time.perf_counter()
            result = align(load_script(script), [src], options, embedder=emb)
            align_s = time.perf_counter() - t0
            adir = args.out / "results" / args.tag / asr
            adir.mkdir(parents=True, exist_ok=True)
            afile = adir / f"{name}.alignment.json"
            data = result.to_json()
            afile.write_text(json.dumps(data, indent=1))
            sc = score(truth_f, afile)
            w = case_wer(truth, transcript)
            beats = {b["index"]: b for b in data["beats"]}
            per = []
            for p in sc["per_beat"]:
                b = beats.get(p["index"], {})
                alts = b.get("alternatives", [])
                tb = truth["beats"][p["index"]]
                alt_ok = any(_inside(a.get("clips", []), tb) for a in alts[:3])
                per.append({"index": p["index"], "kind": tb.get("kind", "dev"), "correct": p["correct"],
                            "confidence": b.get("confidence", 0.0), "needs_review": b.get("needs_review"),
                            "top3": bool(p["correct"] or alt_ok)})
            rows.append({"case": name, "split": split, "asr": asr, "system": sc["system"],
                         "uniform": sc["baselines"]["uniform"], "n_beats": len(truth["beats"]),
                         "wer": None if w is None else [w[0], w[1]], "asr_seconds": round(asr_s, 1),
                         "align_seconds": round(align_s, 2), "duration": duration, "per_beat": per})
            s = sc["system"]
            print(f"{asr:8} {split:5} {name:10} beat {s['beat_accuracy']:.3f} clip {s['clip_accuracy']:.3f} "
                  f"iou {s['sentence_iou']:.3f} viol {s['order_violations']}/{s['order_pairs']} "
                  f"wer {'-' if w is None else f'{w[0] / max(w[1], 1):.3f}'}", file=sys.stderr)
    report(rows, args.out / "results" / f"{args.tag}.json")
    return 0


def _inside(clips: list[dict[str, Any]], tb: dict[str, Any], tol: float = 1.0) -> bool:
    tot = sum(c["end"] - c["start"] for c in clips)
    ins = sum(max(0.0, min(c["end"], tb["end"] + tol) - max(c["start"], tb["start"] - tol)) for c in clips)
    return tot > 0 and ins / tot > 0.5


def report(rows: list[dict[str, Any]], path: Path) -> None:
    print("| asr | split | case | beats | beat acc | clip acc | IoU | order viol | WER | uniform beat acc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s, w = r["system"], r["wer"]
        print(f"| {r['asr']} | {r['split']} | {r['case']} | {r['n_beats']} | {s['beat_accuracy']:.3f} | "
              f"{s['clip_accuracy']:.3f} | {s['sentence_iou']:.3f} | {s['order_violations']}/{s['order_pairs']} | "
              f"{'-' if w is None else f'{w[0] / max(w[1], 1):.3f}'} | {r['uniform']['beat_accuracy']:.3f} |")
    summary: dict[str, Any] = {}
    for asr in sorted({r["asr"] for r in rows}):
        for split in ("tune", "held"):
            sel = [r for r in rows if r["asr"] == asr and r["split"] == split]
            if not sel:
                continue
            beats = [p for r in sel for p in r["per_beat"]]
            we = [r["wer"] for r in sel if r["wer"]]
            pairs = [(float(p["confidence"]), bool(p["correct"])) for p in beats]
            table, ece = reliability(pairs)
            flagged = [p for p in beats if p["needs_review"]]
            summ = {"beats": len(beats), "beat_accuracy": sum(p["correct"] for p in beats) / max(len(beats), 1),
                    "top3_accuracy": sum(p["top3"] for p in beats) / max(len(beats), 1),
                    "clip_accuracy_mean": sum(r["system"]["clip_accuracy"] for r in sel) / len(sel),
                    "iou_mean": sum(r["system"]["sentence_iou"] for r in sel) / len(sel),
                    "order_violations": sum(r["system"]["order_violations"] for r in sel),
                    "wer": (sum(e for e, _ in we) / max(sum(n for _, n in we), 1)) if we else None,
                    "asr_seconds": sum(r["asr_seconds"] for r in sel),
                    "audio_seconds": sum(r["duration"] for r in sel),
                    "ece": round(ece, 4), "reliability": table,
                    "needs_review": len(flagged),
                    "wrong_flagged": sum(not p["correct"] for p in flagged),
                    "wrong": sum(not p["correct"] for p in beats),
                    "by_kind": {k: [sum(p["correct"] for p in beats if p["kind"] == k),
                                    sum(1 for p in beats if p["kind"] == k)]
                                for k in sorted({p["kind"] for p in beats})}}
            summary[f"{asr}/{split}"] = summ
            print(f"\n{asr} {split}: beat acc {summ['beat_accuracy']:.3f} top-3 {summ['top3_accuracy']:.3f} "
                  f"clip acc {summ['clip_accuracy_mean']:.3f} IoU {summ['iou_mean']:.3f} "
                  f"order viol {summ['order_violations']} WER "
                  f"{'-' if summ['wer'] is None else format(summ['wer'], '.3f')} ECE {ece:.3f} "
                  f"needs_review {summ['needs_review']} (wrong among them {summ['wrong_flagged']} of "
                  f"{summ['wrong']} wrong)")
            print(f"  by kind (right/all): {summ['by_kind']}")
            print("  reliability: " + "; ".join(f"{t['bin']} n={t['n']} conf={t['mean_conf']} acc={t['accuracy']}"
                                               for t in table))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    _ = math


if __name__ == "__main__":
    raise SystemExit(main())
