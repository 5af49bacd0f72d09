"""Assembly speed: smart render against a full re-encode of the same edit list, same run.

Source: a generated 10-minute 1280x720 25 fps H.264 file (x264 ultrafast, GOP 2 s, AAC) whose
frames carry their index in pixels; cached under bench/results/. Edit: 40 clips at random
frames totalling about 3 minutes. Both outputs are decoded and their frame indices compared
with the expected list. Also timed: the pure copy path (the same clips moved to keyframes).

    .venv/bin/python bench/assembly.py            # full size -> bench/results/assembly.json
    .venv/bin/python bench/assembly.py --quick    # 2-minute source, 10 clips
    .venv/bin/python bench/assembly.py --quick --gop 1   # how the ratio grows with shorter GOPs
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.assemble import AssembleOptions, AssembleResult, assemble  # noqa: E402
from media.edl import BeatSlot, EditList, EdlClip, EdlSource, retime  # noqa: E402
from media.profiles import get_profile  # noqa: E402
from tests.media.framegen import make_indexed_clip, read_frame_indices  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FPS, SIZE = 25, (1280, 720)


def source(minutes: float, gop: int) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if gop == 50 else f"_gop{gop}"
    path = RESULTS / f"assembly_source_{minutes:g}min_720p{suffix}.mp4"
    if not path.exists():
        tmp = path.with_suffix(".part.mp4")
        make_indexed_clip(tmp, round(minutes * 60 * FPS), FPS, SIZE, gop, preset="ultrafast", crf=23)
        tmp.rename(path)
    return path


def plan(total_frames: int, clips: int, target_s: float, seed: int = 1) -> list[tuple[int, int]]:
    """Random non-overlapping cuts at arbitrary frames, in random order, about ``target_s`` long in all."""
    rng = random.Random(seed)
    mean = target_s / clips * FPS
    slot = total_frames // clips
    cuts = []
    for k in range(clips):
        length = max(1, round(rng.uniform(0.55, 1.45) * mean))
        start = k * slot + rng.randrange(0, max(1, slot - length))
        cuts.append((start, start + length))
    rng.shuffle(cuts)
    return cuts


def edl_for(path: Path, cuts: list[tuple[int, int]], duration: float) -> EditList:
    clips = retime(EdlClip("s0", str(path), a / FPS, b / FPS, 0, 0.0) for a, b in cuts)
    slots = (BeatSlot(0, 0.0, sum(c.duration for c in clips)),)
    return EditList((EdlSource("s0", str(path), FPS, duration),), slots, clips)


CPU: dict[str, list[float]] = {}


def timed(edl: EditList, out: Path, options: AssembleOptions) -> tuple[AssembleResult, float]:
    """Wall seconds; CPU seconds of all threads go to ``CPU[out.stem]`` (steadier on a shared machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = assemble(edl, out, options)
    CPU.setdefault(out.stem, []).append(time.process_time() - c0)
    return result, time.perf_counter() - t0


def compare(edl: EditList, work: Path, repeat: int) -> tuple[AssembleResult, list[float], AssembleResult, list[float]]:
    """Smart and full re-encode, alternating ``repeat`` times (the machine may be shared)."""
    smart_runs: list[float] = []
    full_runs: list[float] = []
    for _ in range(repeat):
        smart, t = timed(edl, work / "smart.mp4", AssembleOptions(profile="720p"))
        smart_runs.append(t)
        full, t = timed(edl, work / "full.mp4", AssembleOptions(profile="720p", mode="reencode"))
        full_runs.append(t)
    return smart, smart_runs, full, full_runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-minute source, 10 clips of about 45 s in all")
    ap.add_argument("--gop", type=float, default=2.0, help="source GOP in seconds (default 2)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each method, alternating; the best counts")
    args = ap.parse_args()
    minutes, clips, target = (2.0, 10, 45.0) if args.quick else (10.0, 40, 180.0)
    gop = max(1, round(args.gop * FPS))
    t0 = time.perf_counter()
    src = source(minutes, gop)
    gen_s = time.perf_counter() - t0
    total = round(minutes * 60 * FPS)
    cuts = plan(total, clips, target)
    edl = edl_for(src, cuts, minutes * 60)
    expected = [i for a, b in cuts for i in range(a, b)]
    work = RESULTS / "assembly_work"
    work.mkdir(exist_ok=True)

    smart, smart_runs, full, full_runs = compare(edl, work, args.repeat)
    smart_s, full_s = min(smart_runs), min(full_runs)
    keyed = [(a - a % gop, min(total, b - b % gop + (gop if b % gop else 0))) for a, b in cuts]
    copy, copy_s = timed(edl_for(src, keyed, minutes * 60), work / "copy.mp4", AssembleOptions(profile="720p"))
    _, copy_video_s = timed(edl_for(src, keyed, minutes * 60), work / "copy_video.mp4",
                            AssembleOptions(profile="720p", audio=False))

    smart_idx, full_idx = read_frame_indices(smart.path), read_frame_indices(full.path)
    report: dict[str, Any] = {
        "quick": args.quick, "cpu_count": os.cpu_count(), "preset": get_profile("720p").preset,
        "source": {"minutes": minutes, "size": list(SIZE), "fps": FPS, "gop_frames": gop,
                   "generated_or_cached_s": round(gen_s, 2)},
        "clips": len(cuts), "output_seconds": round(smart.duration, 3),
        "repeat": args.repeat, "load_average": [round(x, 2) for x in os.getloadavg()],
        "smart": {"seconds": round(smart_s, 3), "runs": [round(x, 3) for x in smart_runs], "mode": smart.mode,
                  "copied_frames": smart.copied_frames,
                  "reencoded_frames": smart.reencoded_frames,
                  "seconds_per_output_second": round(smart_s / smart.duration, 4)},
        "reencode": {"seconds": round(full_s, 3), "runs": [round(x, 3) for x in full_runs], "frames": full.frames,
                     "seconds_per_output_second": round(full_s / full.duration, 4)},
        "speedup_smart_vs_reencode": round(full_s / smart_s, 2),
        "cpu_seconds": {"smart": round(min(CPU["smart"]), 2), "reencode": round(min(CPU["full"]), 2)},
        "cpu_speedup_smart_vs_reencode": round(min(CPU["full"]) / min(CPU["smart"]), 2),
        "frames_identical": smart_idx == full_idx == expected,
        "copy_path": {"seconds": round(copy_s, 3), "mode": copy.mode, "output_seconds": round(copy.duration, 3),
                      "seconds_per_output_second": round(copy_s / copy.duration, 4),
                      "video_only_seconds_per_output_second": round(copy_video_s / copy.duration, 4)},
    }
    out = RESULTS / ("assembly" + ("_quick" if args.quick else "") + ("" if gop == 50 else f"_gop{gop}") + ".json")
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"smart {smart_s:.2f} s vs re-encode {full_s:.2f} s: {full_s / smart_s:.2f}x faster "
          f"({report['cpu_speedup_smart_vs_reencode']}x in CPU time); "
          f"frame-identical: {report['frames_identical']}; copy path {copy_s / copy.duration:.4f} s per output s "
          f"({copy_video_s / copy.duration:.4f} without the audio re-encode)")


if __name__ == "__main__":
    main()
