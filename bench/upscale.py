"""Upscaler speed: model-only fps against end-to-end fps (file to file) on the same clip, same run.

Model-only: the clip's frames already on the device as uint8, ``Upscaler.upscale_tensor`` in batches,
synchronised timing (CUDA events / synchronize), after a warm-up batch. End-to-end: ``upscale_video``
file to file (decode thread, inference, encode thread, audio copy), and the chunked path
(``upscale_chunked``, split + per-chunk segments + join). The ratio end-to-end / model-only shows
how well decode and encode hide behind inference (aim: >= 0.9). Also: peak GPU memory, the encoder.

    .venv/bin/python bench/upscale.py                         # CPU: animevideov3, 96x54 x4, native size
    .venv/bin/python bench/upscale.py --size 1920x1080 --seconds 4 --target UHD_4K --dtype fp16   # GPU
    .venv/bin/python bench/upscale.py --model RealESRGAN_x4plus --size 1920x1080 --seconds 2       # GPU
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colab.infer import InferOptions, Upscaler  # noqa: E402
from colab.manifest import ChunkOptions, upscale_chunked  # noqa: E402
from colab.models import load_network  # noqa: E402
from colab.video import VideoOptions, _infer, output_geometry, upscale_video  # noqa: E402
from tests.media.framegen import make_indexed_clip  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _frames(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as cont:
        return np.stack([f.to_ndarray(format="rgb24") for f in cont.decode(video=0)])


def model_only(up: Upscaler, frames: np.ndarray, batch: int, geometry: tuple[int, int, int, int]) -> dict[str, Any]:
    """Frames already on the device; the network plus the resize to the target (what end-to-end also does)."""
    on_device = up.to_device(frames)
    _sync(up.device)
    up.upscale_tensor(on_device[:batch])  # warm-up (cuDNN autotune, compile)
    _sync(up.device)
    started = time.perf_counter()
    for i in range(0, len(frames), batch):
        y = up.upscale_tensor(on_device[i:i + batch])
        if (y.shape[2], y.shape[1]) != geometry[:2]:
            y = torch.nn.functional.interpolate(y.permute(0, 3, 1, 2).float(), size=(geometry[1], geometry[0]),
                                                mode="bicubic", antialias=True)
    _sync(up.device)
    seconds = time.perf_counter() - started
    return {"frames": len(frames), "seconds": round(seconds, 3), "fps": round(len(frames) / seconds, 3)}


def cancel_latency(up: Upscaler, clip: Path, video: VideoOptions, tmp: Path, after_s: float = 0.5) -> float:
    """Seconds from the cancel request to upscale_video giving up (it checks between batches)."""
    import threading

    from colab.video import UpscaleCancelledError

    flag = threading.Event()
    asked: list[float] = []

    def later() -> None:
        time.sleep(after_s)
        asked.append(time.perf_counter())
        flag.set()

    threading.Thread(target=later, daemon=True).start()
    try:
        upscale_video(clip, tmp / "cancelled.mp4", up, video, cancel=flag.is_set)
    except UpscaleCancelledError:
        return time.perf_counter() - asked[0]
    return -1.0  # finished before the request


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="realesr-animevideov3")
    ap.add_argument("--size", default="96x54")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--fps", type=float, default=24.0)
    ap.add_argument("--target", default="native", choices=["native", "UHD_4K"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--chunk-seconds", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    frames_n = round(args.seconds * args.fps)
    clip = RESULTS / f"upscale_clip_{w}x{h}_{frames_n}f.mp4"
    if not clip.exists():
        make_indexed_clip(clip, frames=frames_n, fps=args.fps, size=(w, h), gop=round(args.fps), crf=18)
    up = Upscaler(load_network(args.model), InferOptions(device=args.device, dtype=args.dtype, compile=args.compile))
    video = VideoOptions(target=args.target, batch=args.batch, preset="veryfast")
    geometry = output_geometry(w, h, up.scale, video)
    frames = _frames(clip)
    if up.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(up.device)
    model = model_only(up, frames, args.batch, geometry)
    _infer(up, frames[:args.batch], geometry)  # warm the end-to-end path's resize too
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = upscale_video(clip, Path(tmp) / "out.mp4", up, video)
        e2e_s = time.perf_counter() - started
        started = time.perf_counter()
        chunked = upscale_chunked(clip, Path(tmp) / "chunked.mp4", Path(tmp) / "work", up, args.model,
                                  ChunkOptions(chunk_seconds=args.chunk_seconds, video=video))
        chunked_s = time.perf_counter() - started
        cancel_s = cancel_latency(up, clip, video, Path(tmp))
    e2e_fps = result.frames / e2e_s
    report = {
        "model": args.model, "device": str(up.device), "dtype": str(up.dtype).removeprefix("torch."),
        "input": f"{w}x{h}", "output": f"{geometry[2]}x{geometry[3]}", "frames": result.frames,
        "batch": args.batch, "tile": up.tile, "encoder": result.encoder, "compile": args.compile,
        "torch_threads": torch.get_num_threads(),
        "model_only": model,
        "end_to_end": {"seconds": round(e2e_s, 3), "fps": round(e2e_fps, 3),
                       "model_seconds_inside": round(result.model_seconds, 3)},
        "chunked": {"seconds": round(chunked_s, 3), "fps": round(chunked.frames / chunked_s, 3),
                    "chunks": chunked.chunks},
        "ratio_end_to_end_over_model_only": round(e2e_fps / model["fps"], 3),
        "ratio_chunked_over_model_only": round(chunked.frames / chunked_s / model["fps"], 3),
        "cancel_latency_s": round(cancel_s, 3),
        "peak_gpu_memory_mib": (round(torch.cuda.max_memory_allocated(up.device) / 2**20)
                                if up.device.type == "cuda" else None),
    }
    out = args.out or RESULTS / f"upscale_{args.model}_{w}x{h}_{up.device.type}.json"
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
