"""File to file: decode (threaded), upscale in batches, scale to the 4K profile, encode, copy the audio.

Decode, inference and encode run at once, joined by bounded queues, so the GPU is not left waiting on
the codecs and memory stays flat. Timestamps are the input's (VFR-safe), the colour range and matrix
are kept, the audio packets are copied untouched and interleaved by time::

    up = Upscaler(load_network("realesr-animevideov3"))
    upscale_video(Path("in.mp4"), Path("out.mp4"), up, VideoOptions(target="UHD_4K"))
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch
import torch.nn.functional as F

from colab.infer import Upscaler

UHD_4K = (3840, 2160)
CODECS = {"h264": ("h264_nvenc", "libx264"), "h265": ("hevc_nvenc", "libx265")}


class UpscaleCancelledError(Exception):
    """The caller's cancel check turned true (checked between batches)."""


class VideoError(RuntimeError):
    """The input cannot be decoded, or the output does not have the input's frames."""


@dataclass(frozen=True)
class VideoOptions:
    target: str = "UHD_4K"       # UHD_4K: fit inside 3840x2160; native: the model's scale only
    pad: bool = False            # UHD_4K only: pad to exactly 3840x2160 (black bars) instead of fitting
    codec: str = "h264"          # h264 | h265
    encoder: str = "auto"        # auto (NVENC when usable, else libx264/libx265) | an ffmpeg encoder name
    quality: int = 18            # CRF (x264/x265) or CQ (NVENC)
    preset: str = "medium"
    batch: int = 4
    queue_depth: int = 3         # batches in flight between the stages
    audio: bool = True           # copy the input's audio streams
    threads: int = 0             # encoder threads (0: codec default)

    def __post_init__(self) -> None:
        if self.target not in ("UHD_4K", "native"):
            raise ValueError("target must be UHD_4K or native")
        if self.codec not in CODECS:
            raise ValueError("codec must be h264 or h265")
        if self.batch < 1 or self.queue_depth < 1:
            raise ValueError("batch and queue_depth must be >= 1")


@dataclass(frozen=True)
class VideoResult:
    frames: int
    width: int
    height: int
    seconds: float
    model_seconds: float
    encoder: str


def output_geometry(width: int, height: int, scale: int, options: VideoOptions) -> tuple[int, int, int, int]:
    """``(content_w, content_h, frame_w, frame_h)``: the upscaled picture and the frame it sits in."""
    if options.target == "native":
        return width * scale, height * scale, width * scale, height * scale
    tw, th = UHD_4K
    ratio = min(tw / width, th / height)
    cw, ch = min(tw, round(width * ratio / 2) * 2), min(th, round(height * ratio / 2) * 2)
    return (cw, ch, tw, th) if options.pad else (cw, ch, cw, ch)


def pick_encoder(options: VideoOptions, device: torch.device) -> str:
    if options.encoder != "auto":
        return options.encoder
    nvenc, software = CODECS[options.codec]
    if device.type == "cuda" and nvenc in av.codecs_available:
        try:
            av.CodecContext.create(nvenc, "w")
            return nvenc
        except (av.FFmpegError, ValueError):
            pass
    return software


def _encoder_options(name: str, options: VideoOptions) -> dict[str, str]:
    # no B-frames: dts == pts in every segment, so segments join by packet copy without any shifting
    if "nvenc" in name:
        return {"rc": "vbr", "cq": str(options.quality), "preset": "p4", "bf": "0"}
    opts = {"crf": str(options.quality), "preset": options.preset}
    if name == "libx264":
        opts["bf"] = "0"
    elif name == "libx265":
        opts["x265-params"] = "bframes=0:log-level=error"
    return opts


@dataclass
class _Batch:
    frames: Any
    pts: list[int]


class _Pipe:
    """A bounded queue that carries an end marker and the producer's exception."""

    END = object()

    def __init__(self, depth: int) -> None:
        self.q: queue.Queue[Any] = queue.Queue(depth)
        self.stop = threading.Event()

    def put(self, item: Any, abort: Callable[[], bool] | None = None) -> None:
        """Blocks while the consumer is behind; raises UpscaleCancelledError when ``abort()`` turns true."""
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return
            except queue.Full:
                if abort is not None and abort():
                    raise UpscaleCancelledError("upscale cancelled") from None

    def get(self) -> Any:
        while True:
            if self.stop.is_set():  # cancelled or failed: drop what is queued
                return _Pipe.END
            try:
                item = self.q.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        if isinstance(item, BaseException):
            raise item
        return item


def _decode(path: Path, batch: int, pipe: _Pipe, clock: tuple[Fraction, bool]) -> None:
    out_tb, rebase = clock
    try:
        with av.open(str(path)) as cont:
            stream = cont.streams.video[0]
            stream.thread_type = "AUTO"
            tb = Fraction(stream.time_base or Fraction(1, 90000))
            frames: list[Any] = []
            pts: list[int] = []
            origin: int | None = None
            for n, frame in enumerate(cont.decode(stream)):
                raw = frame.pts if frame.pts is not None else n
                origin = raw if origin is None else origin
                frames.append(frame.to_ndarray(format="rgb24", src_color_range=frame.color_range or 1))
                # exact: times are re-expressed in the output time base (and from zero when rebasing)
                pts.append(round((raw - (origin if rebase else 0)) * tb / out_tb))
                if len(frames) == batch:
                    pipe.put(_Batch(np.stack(frames), pts))
                    frames, pts = [], []
                if pipe.stop.is_set():
                    return
            if frames:
                pipe.put(_Batch(np.stack(frames), pts))
        pipe.put(_Pipe.END)
    except Exception as ex:
        pipe.put(VideoError(f"cannot decode {path.name}: {ex}"))


def _audio_packets(path: Path, out: Any) -> Iterator[tuple[float, Any]]:
    with av.open(str(path)) as cont:
        if not cont.streams.audio:
            return
        streams = {s.index: out.add_stream_from_template(s) for s in cont.streams.audio}
        yield 0.0, None  # the streams exist now: the header may be written
        for packet in cont.demux(*cont.streams.audio):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream_index]
            yield float(packet.dts * packet.time_base), packet


@dataclass
class _EncodeJob:
    source: Path
    dest: Path
    geometry: tuple[int, int, int, int]
    time_base: Fraction
    rate: Fraction | None
    color: dict[str, Any]
    encoder: str
    options: VideoOptions


def _encode(job: _EncodeJob, pipe: _Pipe, done: dict[str, Any]) -> None:
    try:
        done["frames"] = _encode_all(job, pipe)
    except Exception as ex:
        pipe.stop.set()
        done["error"] = ex


def _open_video_stream(out: Any, job: _EncodeJob) -> Any:
    vs = out.add_stream(job.encoder, rate=job.rate)
    _cw, _ch, fw, fh = job.geometry
    vs.width, vs.height, vs.pix_fmt = fw, fh, "yuv420p"
    vs.time_base = job.time_base
    vs.codec_context.time_base = job.time_base
    vs.codec_context.options = _encoder_options(job.encoder, job.options)
    if job.options.threads:
        vs.codec_context.thread_count = job.options.threads
    for key in ("color_range", "colorspace", "color_primaries", "color_trc"):
        if job.color.get(key):
            setattr(vs.codec_context, key, job.color[key])
    return vs


def _encode_all(job: _EncodeJob, pipe: _Pipe) -> int:
    count = 0
    with av.open(str(job.dest), "w", format="mp4") as out:
        vs = _open_video_stream(out, job)
        audio = _audio_packets(job.source, out) if job.options.audio else iter(())
        pending = next(audio, None)  # adds the audio streams before the first write
        if pending is not None and pending[1] is None:
            pending = next(audio, None)
        crange, cspace = job.color.get("color_range") or 1, job.color.get("colorspace") or 1
        while (batch := pipe.get()) is not _Pipe.END:
            for arr, pts in zip(batch.frames, batch.pts, strict=True):
                frame = av.VideoFrame.from_ndarray(arr, format="rgb24").reformat(
                    format="yuv420p", dst_colorspace=cspace, dst_color_range=crange)
                frame.pts, frame.time_base = pts, job.time_base
                t = float(pts * job.time_base)
                while pending is not None and pending[0] <= t:
                    out.mux(pending[1])
                    pending = next(audio, None)
                out.mux(vs.encode(frame))
                count += 1
                if pipe.stop.is_set():
                    return count  # cancelled: no encoder flush (seconds of lookahead at 4K)
        if pipe.stop.is_set():
            return count
        out.mux(vs.encode(None))
        while pending is not None:
            out.mux(pending[1])
            pending = next(audio, None)
    return count


def _probe(path: Path) -> tuple[int, int, Fraction, Fraction | None, dict[str, Any], int]:
    try:
        with av.open(str(path)) as cont:
            vs = cont.streams.video[0]
            cc = vs.codec_context
            color = {"color_range": cc.color_range, "colorspace": cc.colorspace,
                     "color_primaries": cc.color_primaries, "color_trc": cc.color_trc}
            tb = vs.time_base or Fraction(1, 90000)
            return vs.width, vs.height, Fraction(tb), vs.average_rate, color, vs.frames
    except (av.FFmpegError, IndexError) as ex:
        raise VideoError(f"cannot open {path.name}: {ex}") from ex


def upscale_video(src: Path, dest: Path, up: Upscaler, options: VideoOptions | None = None, *,
                  progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None,
                  time_base: Fraction | None = None, rebase: bool = False) -> VideoResult:
    """Upscale ``src`` into ``dest`` (MP4); raises UpscaleCancelledError or VideoError.

    Args:
        time_base: the output's time base (default: the input's); timestamps are converted exactly.
        rebase: start the output's timestamps at zero (a chunk's segment; the join adds the offset back).
    """
    options = options or VideoOptions()
    width, height, src_tb, rate, color, total = _probe(src)
    tb = time_base or src_tb
    geometry = output_geometry(width, height, up.scale, options)
    job = _EncodeJob(src, dest, geometry, tb, rate, color, pick_encoder(options, up.device), options)
    started = time.perf_counter()
    decoded, encoded = _Pipe(options.queue_depth), _Pipe(options.queue_depth)
    done: dict[str, Any] = {}
    reader = threading.Thread(target=_decode, args=(src, options.batch, decoded, (tb, rebase)), daemon=True)
    writer = threading.Thread(target=_encode, args=(job, encoded, done), daemon=True)
    reader.start()
    writer.start()
    model_seconds, frames_in = 0.0, 0
    try:
        while (batch := decoded.get()) is not _Pipe.END:
            if cancel is not None and cancel():
                raise UpscaleCancelledError("upscale cancelled")
            if "error" in done:
                raise done["error"]
            t0 = time.perf_counter()
            frames = _infer(up, batch.frames, geometry)
            model_seconds += time.perf_counter() - t0
            encoded.put(_Batch(frames, batch.pts), abort=cancel)  # a slow encoder must not delay a cancel
            frames_in += len(batch.pts)
            if progress is not None and total:
                progress(min(1.0, frames_in / total))
        encoded.put(_Pipe.END)
        writer.join()
    except BaseException:
        decoded.stop.set()
        encoded.stop.set()
        writer.join()
        dest.unlink(missing_ok=True)
        raise
    finally:
        decoded.stop.set()
        encoded.stop.set()
        reader.join()
        writer.join()
    if "error" in done:
        raise VideoError(f"cannot encode {dest.name}: {done['error']}") from done["error"]
    if done.get("frames") != frames_in:
        raise VideoError(f"{dest.name}: {done.get('frames')} frames written for {frames_in} decoded")
    return VideoResult(frames_in, geometry[2], geometry[3], time.perf_counter() - started, model_seconds,
                       job.encoder)


def _infer(up: Upscaler, frames: np.ndarray, geometry: tuple[int, int, int, int]) -> np.ndarray:
    cw, ch, fw, fh = geometry
    y = up.upscale_tensor(up.to_device(frames))
    if (y.shape[1], y.shape[2]) != (ch, cw):
        x = y.permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(ch, cw), mode="bicubic", antialias=x.shape[2] > ch, align_corners=False)
        y = x.clamp_(0, 255).round_().to(torch.uint8).permute(0, 2, 3, 1)
    if (fw, fh) != (cw, ch):
        left, top = (fw - cw) // 2, (fh - ch) // 2
        y = F.pad(y, (0, 0, left, fw - cw - left, top, fh - ch - top))
    return y.contiguous().cpu().numpy()
