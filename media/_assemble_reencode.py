"""The full re-encode path of :mod:`media.assemble`: decode each clip, conform it, encode to the profile.

Used when sources differ (codec, size, rate, pixel format), when pixels change (a frame
filter for burned-in captions or title cards), when a clip changes speed, or for variable
frame rates. Output frame ``j`` of a clip shows the source frame on screen at
``src_in + j * speed / fps_out`` (by timestamps), so equal rates give exactly the source
frames ``[first, end)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from fractions import Fraction

import av
import av.container
import av.error
import av.video.stream
import numpy as np

from media.errors import CancelledError, DecodeError, EncodeError
from media.profiles import OutputProfile
from media.types import CancelFn

#: Changes a frame's pixels; receives the frame and its output time in seconds.
FrameFilter = Callable[[av.VideoFrame, float], av.VideoFrame]


class Reencoder:
    """Encodes conformed frames of many clips into one H.264 stream."""

    def __init__(self, container: av.container.OutputContainer, profile: OutputProfile, size: tuple[int, int],
                 rate: Fraction, frame_filter: FrameFilter | None, cancel: CancelFn, threads: int = 0) -> None:
        self.container, self.rate, self.size = container, rate, size
        self.frame_filter, self.cancel = frame_filter, cancel
        stream = container.add_stream(profile.video_codec, rate=rate)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], profile.pix_fmt
        gop = max(1, round(profile.gop_seconds * float(rate)))
        stream.codec_context.gop_size = gop
        stream.codec_context.thread_count = threads
        stream.codec_context.options = {"preset": profile.preset, "crf": str(profile.crf), "g": str(gop)}
        self.stream = stream
        self.frames = 0
        self._inputs: dict[str, av.container.InputContainer] = {}

    def close(self) -> None:
        for cont in self._inputs.values():
            cont.close()
        self._inputs.clear()

    def add_clip(self, path: str, t_in: Fraction, count: int, speed: float) -> None:
        """Encode ``count`` output frames of ``path`` from source time ``t_in`` (seconds from its first frame).

        Output frame ``j`` shows the source frame on screen at ``t_in + j * speed / rate``; a frame
        counts as on screen from its timestamp (within 1 % of a frame, for rounded timestamps).
        """
        cont = self._input(path)
        stream = cont.streams.video[0]
        src_rate = Fraction(stream.guessed_rate or stream.average_rate or self.rate)
        tol = Fraction(1, 100) / max(src_rate, self.rate)
        step = Fraction(speed).limit_denominator(1000) / self.rate
        frames = self._decode_from(cont, stream, t_in - tol)
        current: av.VideoFrame | None = None
        upcoming = next(frames, None)
        for j in range(count):
            want = t_in + j * step + tol
            while upcoming is not None and (current is None or upcoming[1] <= want):
                current = upcoming[0]
                upcoming = next(frames, None)
            if current is None:
                raise DecodeError(f"{path}: no frame at {float(t_in):.3f} s")
            self._encode(current)  # source ends early: the last frame holds
        if self.cancel():
            raise CancelledError("assembly cancelled")

    def finish(self) -> None:
        try:
            self.container.mux(self.stream.encode(None))
        except av.error.FFmpegError as ex:
            if isinstance(ex, OSError):
                raise
            raise EncodeError("cannot finish the video stream") from ex

    def _input(self, path: str) -> av.container.InputContainer:
        if path not in self._inputs:
            try:
                cont = av.open(path)
                cont.streams.video[0].thread_type = "AUTO"
            except (av.error.FFmpegError, IndexError) as ex:
                raise DecodeError(f"cannot open the video of {path}") from ex
            self._inputs[path] = cont
        return self._inputs[path]

    def _decode_from(self, cont: av.container.InputContainer, stream: av.video.stream.VideoStream,
                     t_in: Fraction) -> Iterator[tuple[av.VideoFrame, Fraction]]:
        """Frames with their time (from the stream's first frame), from the last one at or before ``t_in``."""
        tb = Fraction(stream.time_base or Fraction(1, 90000))
        start = stream.start_time or 0
        back = Fraction(0)
        while True:
            target = start + int(max(Fraction(0), t_in - back) / tb)
            frames = self._decode_at(cont, stream, target, start, tb)
            head = next(frames, None)
            # Open GOPs: a seek can land on a keyframe whose leading frames (before it) are undecodable.
            if head is None or head[1] <= t_in or target <= start or back > 60:
                break
            back += 2
        if head is None:
            return
        prev: tuple[av.VideoFrame, Fraction] | None = None
        for item in itertools.chain([head], frames):
            if item[1] < t_in:
                prev = item
                continue
            if prev is not None and item[1] > t_in:
                yield prev
            prev = None
            yield item
        if prev is not None:
            yield prev

    def _decode_at(self, cont: av.container.InputContainer, stream: av.video.stream.VideoStream, target: int,
                   start: int, tb: Fraction) -> Iterator[tuple[av.VideoFrame, Fraction]]:
        try:
            cont.seek(target, stream=stream, backward=True, any_frame=False)
            for frame in cont.decode(stream):
                if frame.pts is not None:
                    yield frame, (frame.pts - start) * tb
        except av.error.FFmpegError as ex:
            raise DecodeError(f"cannot decode {cont.name} near {float((target - start) * tb):.3f} s") from ex

    def _encode(self, frame: av.VideoFrame) -> None:
        out = self._conform(frame)
        t = self.frames / self.rate
        if self.frame_filter is not None:
            out = self.frame_filter(out, float(t))
        out.pts, out.time_base = self.frames, 1 / self.rate
        out.pict_type = av.video.frame.PictureType.NONE
        self.frames += 1
        try:
            packets = self.stream.encode(out)
        except av.error.FFmpegError as ex:
            if isinstance(ex, OSError):
                raise
            raise EncodeError(f"cannot encode output frame {self.frames - 1}") from ex
        self.container.mux(packets)

    def _conform(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Scale to the output size, keeping the aspect ratio (black bars where it differs)."""
        w, h = self.size
        if (frame.width, frame.height) == (w, h):
            return frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
        scale = min(w / frame.width, h / frame.height)
        fw, fh = 2 * round(frame.width * scale / 2), 2 * round(frame.height * scale / 2)
        if abs(fw - w) <= 2 and abs(fh - h) <= 2:
            return frame.reformat(width=w, height=h, format="yuv420p")
        rgb = frame.reformat(width=fw, height=fh, format="rgb24").to_ndarray()
        canvas = np.zeros((h, w, 3), np.uint8)
        y0, x0 = (h - fh) // 2, (w - fw) // 2
        canvas[y0:y0 + fh, x0:x0 + fw] = rgb
        return av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p")
