"""One decode pass per source, frames scaled to an analysis size, fanned out to consumers.

    from media.decode import DecodeOptions, decode_frames
    result = decode_frames("movie.mp4", [shot_consumer, stats_consumer], DecodeOptions(width=256))
    print(result.frames, result.duration)

Every consumer gets every decoded frame (``consume(index, time, image)``, then
``finish()`` once at the end). Indices count frames in presentation order from 0;
times are ``pts * time_base`` in seconds from the start of the video stream.
Performance: libswscale scales each frame straight from the decoder's YUV to a
small BGR (or grey) picture with one cached scaler, and consumers run on a worker
thread behind a bounded queue, so memory stays flat whatever the length.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from media.errors import CancelledError, DecodeError, NoVideoStreamError
from media.probe import MissingFileError
from media.types import CancelFn, ProgressFn

__all__ = ["DecodeOptions", "DecodeResult", "FrameConsumer", "decode_frames"]

_PIXEL_FORMATS = ("bgr24", "rgb24", "gray")
_INTERPOLATIONS = ("FAST_BILINEAR", "BILINEAR", "BICUBIC", "AREA", "POINT")
_CANCEL_EVERY = 8
_SKIP_LOOP_FILTER_CODECS = frozenset({"h264"})
_STOP = None


class FrameConsumer(Protocol):
    """Receives every analysis frame of one decode pass (called on one thread, in order)."""

    def consume(self, frame_index: int, time: float, image: np.ndarray) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How frames are decoded and scaled for analysis.

    ``width``: analysis width in pixels (height keeps the aspect ratio, rounded to even);
    ``pixel_format``: bgr24 (what PySceneDetect's detectors expect), rgb24 or gray;
    ``threads``: decoder threads, 0 for automatic; ``queue_size``: frames buffered
    between the decoder and the consumers (0 runs consumers on the decoding thread);
    ``skip_loop_filter``: skip H.264's deblocking filter, about a fifth of the decoding
    work; off by default because the small reference drift moves borderline cuts
    (about one cut in ten on the real clips moved by a frame, appeared or vanished);
    ``max_bad_packets``: packets the decoder rejects that are skipped (damaged files)
    before the pass fails with ``DecodeError``; frame indices count decoded frames.
    """

    width: int = 256
    pixel_format: str = "bgr24"
    interpolation: str = "FAST_BILINEAR"
    threads: int = 0
    queue_size: int = 16
    skip_loop_filter: bool = False
    max_bad_packets: int = 50

    def __post_init__(self) -> None:
        if not 16 <= self.width <= 4096:
            raise ValueError("width must be in [16, 4096]")
        if self.pixel_format not in _PIXEL_FORMATS:
            raise ValueError(f"pixel_format must be one of {_PIXEL_FORMATS}")
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}")
        if not 0 <= self.threads <= 64:
            raise ValueError("threads must be in [0, 64]")
        if not 0 <= self.queue_size <= 1024:
            raise ValueError("queue_size must be in [0, 1024]")
        if self.max_bad_packets < 0:
            raise ValueError("max_bad_packets must be >= 0")


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What one pass saw: frame count, end time of the last frame, sizes."""

    frames: int
    duration: float
    fps: float
    width: int
    height: int
    source_width: int
    source_height: int


def decode_frames(path: str | os.PathLike[str], consumers: Sequence[FrameConsumer],
                  options: DecodeOptions | None = None, progress: ProgressFn | None = None,
                  cancel: CancelFn | None = None) -> DecodeResult:
    """Decode the first video stream of ``path`` once and feed every frame to ``consumers``.

    Args:
        path: the source file (probe it first for clear validation errors).
        consumers: receivers of ``(index, time, image)``; ``finish()`` is called after the last frame.
        options: analysis size, pixel format, threading.
        progress: called with fractions in [0, 1]; 1.0 after the consumers finished.
        cancel: polled every few frames; when it returns True, :class:`CancelledError` is raised.

    Raises:
        NoVideoStreamError, DecodeError, CancelledError, MissingFileError.
    """
    opts = options or DecodeOptions()
    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except FileNotFoundError as ex:
        raise MissingFileError(f"{os.fspath(path)}: no such file") from ex
    except av.FFmpegError as ex:
        raise DecodeError(f"cannot open {os.path.basename(os.fspath(path))}") from ex
    with container:
        streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        if not streams:
            raise NoVideoStreamError(f"{os.path.basename(os.fspath(path))}: no video stream")
        stream = streams[0]
        stream.thread_type = "AUTO"
        if opts.threads:
            stream.thread_count = opts.threads
        if opts.skip_loop_filter and stream.codec_context.name in _SKIP_LOOP_FILTER_CODECS:
            # Deblocking only smooths block edges that the downscale averages away; measured drift on
            # H.264: 0.1 grey level on average (on HEVC, with SAO, 3.5: never used there).
            stream.codec_context.options = {**stream.codec_context.options, "skip_loop_filter": "all"}
        pump = _Pump(consumers, opts.queue_size)
        try:
            result = _run(container, stream, pump, opts, progress, cancel)
        except BaseException:
            pump.abort()
            raise
    pump.close()
    if progress is not None:
        progress(1.0)
    return result


def _analysis_size(width: int, height: int, target: int) -> tuple[int, int]:
    w = min(target, width) // 2 * 2 or 2
    h = max(2, round(height * w / width / 2) * 2)
    return w, h


def _run(container: Any, stream: Any, pump: _Pump, opts: DecodeOptions,
         progress: ProgressFn | None, cancel: CancelFn | None) -> DecodeResult:
    cc = stream.codec_context
    src_w, src_h = cc.width, cc.height
    w, h = _analysis_size(src_w, src_h, opts.width)
    tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000)
    start = stream.start_time or 0
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    duration = _stream_duration(container, stream)
    step = max(duration / 200.0, 0.25) if duration else float("inf")
    next_report = step
    reformatter = VideoReformatter()
    index, time, last_time = 0, 0.0, 0.0
    for frame in _frames(container, stream, opts.max_bad_packets):
        if cancel is not None and index % _CANCEL_EVERY == 0 and cancel():
            raise CancelledError("decoding cancelled")
        if frame.pts is not None:
            time = float((frame.pts - start) * tb)
        else:  # no timestamp: one nominal frame after the previous one
            time = last_time + 1.0 / float(rate) if index else 0.0
        last_time = time
        small = reformatter.reformat(frame, w, h, opts.pixel_format, interpolation=opts.interpolation)
        pump.put(index, time, small.to_ndarray())
        index += 1
        if progress is not None and time >= next_report:
            progress(min(time / duration, 0.99))
            next_report = time + step
    if index == 0:
        raise DecodeError("no video frame could be decoded")
    pump.finish()
    end = last_time + (1.0 / float(rate) if index else 0.0)
    return DecodeResult(frames=index, duration=end, fps=float(rate), width=w, height=h,
                        source_width=src_w, source_height=src_h)


def _frames(container: Any, stream: Any, max_bad: int) -> Iterator[Any]:
    """Decoded frames; a packet the decoder rejects is skipped, up to ``max_bad`` of them."""
    bad = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
            except av.InvalidDataError as ex:
                bad += 1
                if bad > max_bad:
                    raise DecodeError(f"more than {max_bad} damaged packets (last at {packet.pts})") from ex
                continue
            yield from frames
    except av.FFmpegError as ex:
        raise DecodeError(f"decoding failed ({ex})") from ex


def _stream_duration(container: Any, stream: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    return float(container.duration / av.time_base) if container.duration else 0.0


class _Pump:
    """Hands frames to the consumers, inline or on one worker thread behind a bounded queue."""

    def __init__(self, consumers: Sequence[FrameConsumer], queue_size: int) -> None:
        self._consumers = list(consumers)
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[int, float, np.ndarray] | None] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        if queue_size > 0:
            self._queue = queue.Queue(maxsize=queue_size)
            self._thread = threading.Thread(target=self._work, name="media-decode-consumers", daemon=True)
            self._thread.start()

    def put(self, index: int, time: float, image: np.ndarray) -> None:
        if self._queue is None:
            for c in self._consumers:
                c.consume(index, time, image)
            return
        if self._error is not None:
            raise self._error
        self._queue.put((index, time, image))

    def finish(self) -> None:
        if self._queue is None:
            for c in self._consumers:
                c.finish()
            return
        self._queue.put(_STOP)
        assert self._thread is not None
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        if self._thread is None or self._queue is None:
            return
        self._stopping.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_STOP)
            self._thread.join(timeout=0.05)
        self._thread = None

    def _work(self) -> None:
        assert self._queue is not None
        try:
            while (item := self._queue.get()) is not _STOP:
                if self._stopping.is_set():
                    return
                for c in self._consumers:
                    c.consume(*item)
            if not self._stopping.is_set():
                for c in self._consumers:
                    c.finish()
        except BaseException as ex:  # handed to the decoding thread, re-raised there
            self._error = ex
            self._stopping.set()
            while True:  # keep draining so the producer never blocks on a full queue
                try:
                    if self._queue.get(timeout=0.05) is _STOP:
                        return
                except queue.Empty:
                    if self._stopping.is_set() and self._queue.empty():
                        return
