"""Fit the confidence model on the tuned split: logistic regression of "beat right" on the aligner's
per-beat evidence (``meta.evidence``: margin of the best path over the best path elsewhere, cosine,
lexical overlap). Held-out cases are never read.

    PYTHONPATH=$PWD .venv/bin/python -m eval.calibrate --tag v3 [--asr tiny.en]

Prints the coefficients to paste into ``media._align_score._CAL``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from eval.run import OUT


def features(tag: str, asr: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    res = json.loads((OUT / "results" / f"{tag}.json").read_text())
    xs, ys = [], []
    for row in res["rows"]:
        if row["split"] != split or row["asr"] != asr:
            continue
        data = json.loads((OUT / "results" / tag / asr / f"{row['case']}.alignment.json").read_text())
        ev = data.get("meta", {}).get("evidence", {}).get("beats", [])
        for p, e in zip(row["per_beat"], ev, strict=True):
            xs.append([min(e[0], 8.0), e[1], e[2]])
            ys.append(1.0 if p["correct"] else 0.0)
    return np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Newton's method with a small ridge (no penalty on the intercept)."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    reg = np.eye(a.shape[1]) * l2
    reg[0, 0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a @ w)))
        g = a.T @ (p - y) + reg @ w
        h = a.T @ (a * (p * (1 - p))[:, None]) + reg
        w -= np.linalg.solve(h, g)
    return w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--asr", default="tiny.en")
    args = ap.parse_args(argv)
    x, y = features(args.tag, args.asr, "tune")
    w = fit(x, y)
    p = 1 / (1 + np.exp(-(np.hstack([np.ones((len(x), 1)), x]) @ w)))
    print(f"{len(y)} tuned beats, {int(y.sum())} right; _CAL = ({', '.join(f'{v:.3f}' for v in w)})")
    print(f"train log-loss {float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))):.3f}")
    _ = Path
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
