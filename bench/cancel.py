"""Cancel latency: seconds from a cancel request to the media loop stopping, per pipeline stage.

The tests assert only WHERE a cancel stops work (no unit of work after the loop saw it, no artifact);
this bench measures HOW FAST, against the 2 s aim of issue 9. The sample film (5 scenes, ~50 s) is
rendered at 720p by ``media.render.render`` and cancelled once per run, in a different stage each
run, at the first progress report past ``--at`` of that stage. A worker adds at most its cancel
watcher's poll (0.25 s, ``runners.executor._watch``) to these figures.

    .venv/bin/python bench/cancel.py               # analyse, narrate, assemble, mix, finish
    .venv/bin/python bench/cancel.py --stages assemble --rounds 3

Writes bench/results/cancel.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.errors import CancelledError  # noqa: E402
from media.render import RenderOptions, render  # noqa: E402

RESULTS = ROOT / "bench" / "results"
AIM_S = 2.0


def cancel_in(stage: str, at: float, film: Any, transcriber: Any, narrator: Any, work: Path) -> dict[str, Any]:
    requested: list[float] = []
    flag = threading.Event()

    def progress(name: str, fraction: float) -> None:
        if name == stage and fraction >= at and not flag.is_set():
            requested.append(time.perf_counter())
            flag.set()

    def cancel() -> bool:
        return flag.is_set()

    try:
        render([film.movie], film.script.read_text(), work / "out" / "recap.mp4", RenderOptions(profile="720p"),
               narrator=narrator, transcriber=transcriber, progress=progress, cancel=cancel)
    except CancelledError:
        stopped = time.perf_counter()
        return {"stage": stage, "latency_s": stopped - requested[0], "ratio_to_aim": (stopped - requested[0]) / AIM_S}
    return {"stage": stage, "latency_s": None, "note": "the stage never reported the requested progress"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", nargs="+", default=["analyse", "narrate", "assemble", "mix", "finish"])
    parser.add_argument("--at", type=float, default=0.2, help="cancel at this fraction of the stage")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    from media.samplefilm import build_sample_film
    from media.speech import FasterWhisperTranscriber
    from media.tts import PiperNarrator

    RESULTS.mkdir(parents=True, exist_ok=True)
    narrator, transcriber = PiperNarrator(), FasterWhisperTranscriber()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="recap-bench-cancel-") as tmp:
        film = build_sample_film(Path(tmp) / "film", narrator)
        for _ in range(args.rounds):
            for stage in args.stages:
                with tempfile.TemporaryDirectory(dir=tmp) as work:
                    row = cancel_in(stage, args.at, film, transcriber, narrator, Path(work))
                rows.append(row)
                shown = "n/a" if row["latency_s"] is None else f"{row['latency_s']:.3f} s"
                print(f"cancel in {stage:9s}: stopped after {shown} (aim {AIM_S} s)")
    measured = [r["latency_s"] for r in rows if r["latency_s"] is not None]
    out = {"when": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(), "load": os.getloadavg(),
           "aim_s": AIM_S, "rows": rows, "max_latency_s": max(measured) if measured else None,
           "max_ratio_to_aim": max(measured) / AIM_S if measured else None}
    (RESULTS / "cancel.json").write_text(json.dumps(out, indent=1))
    print(json.dumps({k: out[k] for k in ("max_latency_s", "max_ratio_to_aim", "load")}))


if __name__ == "__main__":
    main()
