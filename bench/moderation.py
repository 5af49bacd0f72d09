"""Static overlay (watermark/logo) detection: recall, false positives and cost inside the analysis pass.

Clips are built from the real footage in ../shared/media: each source re-encoded with a synthetic
overlay (text bug, boxed channel logo, round emblem, "SAMPLE" text) of 1-10 % of the frame,
20-100 % opacity, in corners, edges or the centre, present the whole time or appearing mid-video;
the clean originals are scanned too. Cached under bench/results/moderation/. Measured in one run:

- recall per (size, opacity) bucket, the aim being >= 0.95 for >= 2 % and >= 30 %;
- false positives on the clean originals (and on the overlay clips, away from the overlay);
- the scan's cost inside the analysis pass: the pass with and without the overlay scan, side by side.

    .venv/bin/python bench/moderation.py           # 48 overlay clips + the originals
    .venv/bin/python bench/moderation.py --quick   # 12 overlay clips
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.analysis import AnalysisOptions, analyse_video  # noqa: E402
from media.moderation import OverlayRegion  # noqa: E402

RESULTS = ROOT / "bench" / "results"
#: ../shared/media, also from a worktree one level deeper (/work/wt/<name>).
SHARED = next((p for p in (ROOT.parent / "shared" / "media", ROOT.parents[1] / "shared" / "media") if p.exists()),
              ROOT.parent / "shared" / "media")
#: Real footage with scene changes (overlays go on these) and clean-only extras.
SOURCES = ("sintel_trailer_480x204.mp4", "popeye/vob_Title_T00-1.mkv", "popeye/vob_Title_T01-2.mkv",
           "popeye/vob_Title_T02-3.mkv", "popeye/vob_Title_T03-4.mkv", "pyscenedetect/testvideo.mp4")
STATIC = ("autoeditor_example_banana.mp4",)
CLEAN_EXTRA = ("pyscenedetect/counter.mp4", "pyscenedetect/fades.mp4")
KINDS = ("text", "boxed", "emblem", "sample")
POSITIONS = ("top_left", "top_right", "bottom_left", "bottom_right", "top", "bottom", "centre")
SIZES = (0.01, 0.02, 0.04, 0.06, 0.10)
OPACITIES = (0.2, 0.3, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    kind: str
    size: float
    opacity: float
    position: str
    appear: float  # share of the duration at which it appears (0: the whole time)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "kind": self.kind, "size": self.size,
                "opacity": self.opacity, "position": self.position, "appear": self.appear}


def logo(kind: str, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(BGR picture, alpha 0-1) of a synthetic overlay filling a w x h box."""
    pic = np.zeros((h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    font = cv2.FONT_HERSHEY_DUPLEX
    text = {"text": "TV9", "boxed": "HD", "emblem": "R", "sample": "SAMPLE"}[kind]
    if kind == "boxed":
        cv2.rectangle(pic, (0, 0), (w - 1, h - 1), (40, 40, 200), -1)
        cv2.rectangle(alpha, (0, 0), (w - 1, h - 1), 255, -1)
    elif kind == "emblem":
        cv2.circle(pic, (w // 2, h // 2), min(w, h) // 2 - 1, (30, 160, 230), -1)
        cv2.circle(alpha, (w // 2, h // 2), min(w, h) // 2 - 1, 255, -1)
    scale = cv2.getTextSize(text, font, 1.0, 2)[0]
    fs = 0.8 * min(w / scale[0], h / scale[1])
    thick = max(1, round(fs * 2))
    size = cv2.getTextSize(text, font, fs, thick)[0]
    org = ((w - size[0]) // 2, (h + size[1]) // 2)
    cv2.putText(pic, text, org, font, fs, (245, 245, 245), thick, cv2.LINE_AA)
    cv2.putText(alpha, text, org, font, fs, 255, thick, cv2.LINE_AA)
    if kind in ("text", "sample"):
        cv2.putText(pic, text, org, font, fs, (20, 20, 20), thick + 2, cv2.LINE_AA)
        cv2.putText(pic, text, org, font, fs, (245, 245, 245), thick, cv2.LINE_AA)
        cv2.putText(alpha, text, org, font, fs, 255, thick + 2, cv2.LINE_AA)
    return pic, alpha.astype(np.float32) / 255.0


def overlay_box(case: Case, width: int, height: int) -> tuple[int, int, int, int]:
    """The overlay's box in source pixels: ``size`` of the frame's area, aspect 2:1 (4:1 for SAMPLE)."""
    aspect = 4.0 if case.kind == "sample" else 2.0 if case.kind != "emblem" else 1.0
    area = case.size * width * height
    bh = max(8, round((area / aspect) ** 0.5))
    bw = min(width - 4, round(bh * aspect))
    m = round(0.04 * min(width, height))
    xs = {"left": m, "right": width - bw - m, "mid": (width - bw) // 2}
    ys = {"top": m, "bottom": height - bh - m, "mid": (height - bh) // 2}
    vertical, _, horizontal = case.position.partition("_")
    if case.position == "centre":
        vertical, horizontal = "mid", "mid"
    elif not horizontal:
        horizontal = "mid"
    return xs[horizontal], ys[vertical], bw, bh


def build(case: Case, out: Path) -> tuple[int, int, float]:
    """Re-encode the source with the overlay burnt in; returns (width, height, duration)."""
    if out.exists():
        with av.open(str(out)) as c:
            v = c.streams.video[0]
            return v.width, v.height, float(c.duration or 0) / 1e6
    tmp = out.with_suffix(".part.mp4")
    with av.open(str(SHARED / case.source)) as src, av.open(str(tmp), "w") as dst:
        vin = src.streams.video[0]
        width, height = vin.codec_context.width, vin.codec_context.height
        duration = float(src.duration or 0) / 1e6
        rate = vin.average_rate or 24
        vout = dst.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"preset": "veryfast", "crf": "20"}
        x, y, bw, bh = overlay_box(case, width, height)
        pic, alpha = logo(case.kind, bw, bh)
        a = (alpha * case.opacity)[..., None]
        start = case.appear * duration
        for i, frame in enumerate(src.decode(vin)):
            img = frame.to_ndarray(format="bgr24")
            t = float(frame.time) if frame.time is not None else i / float(rate)
            if t >= start:
                roi = img[y:y + bh, x:x + bw].astype(np.float32)
                img[y:y + bh, x:x + bw] = (roi * (1 - a) + pic * a + 0.5).astype(np.uint8)
            nf = av.VideoFrame.from_ndarray(img, format="bgr24")
            for p in vout.encode(nf):
                dst.mux(p)
        for p in vout.encode():
            dst.mux(p)
    tmp.replace(out)
    return width, height, duration


def cases(quick: bool) -> list[Case]:
    """A fixed, seeded spread of sizes, opacities, positions, kinds and timings over the sources."""
    rng = random.Random(7)
    grid = [(s, o) for s in SIZES for o in OPACITIES]
    out: list[Case] = []
    n = 12 if quick else 48
    for i in range(n):
        size, opacity = grid[i % len(grid)] if i < len(grid) else rng.choice(grid[5:])
        source = SOURCES[i % len(SOURCES)]
        appear = 0.0 if i % 3 else rng.choice((0.3, 0.5))
        case = Case(f"c{i:02d}", source, KINDS[i % len(KINDS)], size, opacity, POSITIONS[(i * 3) % len(POSITIONS)],
                    appear)
        out.append(case)
    for j, (size, opacity) in enumerate(((0.04, 1.0), (0.06, 0.5))):
        out.append(Case(f"static{j}", STATIC[0], KINDS[j], size, opacity, POSITIONS[j], 0.0))
    return out


def matches(region: OverlayRegion, truth: tuple[float, float, float, float], start: float, duration: float) -> bool:
    """The region overlaps the true box (IoU >= 0.2, or one inside the other) and a time it is present."""
    rx, ry, rw, rh = region.box
    tx, ty, tw, th = truth
    ix = max(0.0, min(rx + rw, tx + tw) - max(rx, tx))
    iy = max(0.0, min(ry + rh, ty + th) - max(ry, ty))
    inter = ix * iy
    iou = inter / (rw * rh + tw * th - inter)
    inside = inter >= 0.7 * min(rw * rh, tw * th)
    in_time = any(b > start + 1e-6 and a < duration for a, b in region.ranges)
    return (iou >= 0.2 or inside) and in_time


def timed(path: Path, overlays: bool) -> tuple[float, Any]:
    opts = AnalysisOptions() if overlays else AnalysisOptions(overlays=None)
    t0 = time.process_time()
    result = analyse_video(path, opts)
    return time.process_time() - t0, result


def scan_cost(path: Path) -> dict[str, float]:
    """CPU seconds of the overlay scan (feeding + detection) on the pass's own frames, beside the pass."""
    from media.decode import DecodeOptions, decode_frames
    from media.moderation import OverlayOptions, detect_overlays, new_overlay_scan
    from media.probe import probe

    class Keep:
        def __init__(self) -> None:
            self.frames: list[tuple[int, float, np.ndarray]] = []

        def consume(self, i: int, t: float, img: np.ndarray) -> None:
            self.frames.append((i, t, img))

        def finish(self) -> None:
            return None

    keep = Keep()
    decode_frames(path, [keep], DecodeOptions(width=DecodeOptions().width))
    passes = [timed(path, overlays=False)[0] for _ in range(2)]
    scan = new_overlay_scan()
    t0 = time.process_time()
    for i, t, img in keep.frames:
        scan.consume(i, t, img)
    detect_overlays(scan, probe(path).duration, OverlayOptions())
    cost = time.process_time() - t0
    return {"pass_cpu_s": round(min(passes), 3), "scan_cpu_s": round(cost, 4),
            "share": round(cost / min(passes), 4)}


def run(quick: bool) -> dict[str, Any]:
    folder = RESULTS / "moderation"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for case in cases(quick):
        path = folder / f"{case.name}.mp4"
        width, height, duration = build(case, path)
        x, y, bw, bh = overlay_box(case, width, height)
        truth = (x / width, y / height, bw / width, bh / height)
        report = analyse_video(path).overlays
        assert report is not None
        start = case.appear * duration
        hit = [r for r in report.regions if matches(r, truth, start, duration)]
        rows.append({**case.to_json(), "detected": bool(hit), "false_positives": len(report.regions) - len(hit),
                     "opacity_estimate": hit[0].opacity if hit else None,
                     "ranges": [list(r) for r in hit[0].ranges] if hit else [],
                     "confidence": hit[0].confidence if hit else None, "checked_share": report.checked_share})
        print(json.dumps(rows[-1]), flush=True)
    clean: list[dict[str, Any]] = []
    for name in (*SOURCES, *STATIC, *CLEAN_EXTRA):
        report = analyse_video(SHARED / name).overlays
        assert report is not None
        clean.append({"source": name, "regions": [r.to_json() | {"crop_png": "..."} for r in report.regions],
                      "false_positives": len(report.regions), "checked_share": report.checked_share})
        print(json.dumps(clean[-1]), flush=True)
    return summarise(rows, clean, {name: scan_cost(SHARED / name) for name in SOURCES[:2]})


def summarise(rows: list[dict[str, Any]], clean: list[dict[str, Any]], cost: dict[str, Any]) -> dict[str, Any]:
    def recall(sel: list[dict[str, Any]]) -> float | None:
        return round(sum(r["detected"] for r in sel) / len(sel), 3) if sel else None

    varied = [r for r in rows if r["source"] not in STATIC]
    target = [r for r in varied if r["size"] >= 0.02 and r["opacity"] >= 0.3]
    buckets = {f"size>={s:g},opacity>={o:g}": recall([r for r in varied if r["size"] >= s and r["opacity"] >= o])
               for s in (0.01, 0.02, 0.04) for o in (0.2, 0.3, 0.5)}
    errors = [abs(r["opacity_estimate"] - r["opacity"]) for r in varied if r["opacity_estimate"] is not None]
    return {"clips": len(rows), "clean_sources": len(clean),
            "recall_target(size>=2%,opacity>=30%)": recall(target), "target_clips": len(target),
            "recall_all_varied": recall(varied), "recall_static_single_shot": recall(
                [r for r in rows if r["source"] in STATIC]),
            "buckets": buckets, "false_positives_clean": sum(c["false_positives"] for c in clean),
            "false_positives_on_overlay_clips": sum(r["false_positives"] for r in rows),
            "opacity_mae": round(float(np.mean(errors)), 3) if errors else None,
            "cost": cost, "rows": rows, "clean": clean}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS / "moderation.json")
    args = ap.parse_args()
    summary = run(args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("rows", "clean")}, indent=1))


if __name__ == "__main__":
    main()
