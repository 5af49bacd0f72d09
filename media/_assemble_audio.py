"""The assembled recap's audio track: source sound cut sample-exactly along the video, re-encoded to AAC.

Private helper of :mod:`media.assemble`. Each clip contributes exactly as many samples as
its video frames last on the output timeline (rounded on the cumulative timeline, so the
track never drifts); sources without audio contribute silence. ``add`` and ``finish``
return the encoded packets instead of muxing them, so the work can run in a thread
beside the video while the caller muxes in order.
"""

from __future__ import annotations

from fractions import Fraction

import av
import av.audio.stream
import av.container
import av.error
import numpy as np
from numpy.typing import NDArray

from media.errors import DecodeError, EncodeError

_Samples = NDArray[np.float32]


class AudioTrack:
    """Encodes clip after clip of source audio into one AAC stream."""

    def __init__(self, container: av.container.OutputContainer, sample_rate: int, channels: int,
                 bit_rate: int) -> None:
        self.container = container
        self.rate, self.channels = sample_rate, channels
        self.layout = "stereo" if channels == 2 else "mono"
        self.stream: av.audio.stream.AudioStream = container.add_stream("aac", rate=sample_rate, layout=self.layout)
        self.stream.bit_rate = bit_rate
        self.fifo = np.zeros((channels, 0), np.float32)
        self.samples = 0  # samples handed to the encoder
        self.total = 0    # samples added
        self._inputs: dict[str, av.container.InputContainer] = {}

    def close(self) -> None:
        for cont in self._inputs.values():
            cont.close()
        self._inputs.clear()

    def add(self, path: str, start: float, count: int, speed: float = 1.0) -> list[av.Packet]:
        """Append ``count`` output samples of ``path``'s audio from ``start`` (absolute seconds)."""
        if count <= 0:
            return []
        need = round(count * speed)
        data = self._read(path, start, need)
        if speed != 1.0 and need > 0:
            # Speed changes resample by interpolation (pitch follows the speed, at most 1.25x).
            x = np.linspace(0, need - 1, count)
            data = np.stack([np.interp(x, np.arange(need), ch) for ch in data]).astype(np.float32)
        self.fifo = np.concatenate([self.fifo, data[:, :count]], axis=1)
        self.total += count
        return self._drain(final=False)

    def finish(self) -> list[av.Packet]:
        packets = self._drain(final=True)
        try:
            return packets + self.stream.encode(None)
        except av.error.FFmpegError as ex:
            raise EncodeError("cannot finish the audio track") from ex

    def _drain(self, final: bool) -> list[av.Packet]:
        size = self.stream.codec_context.frame_size or 1024
        out: list[av.Packet] = []
        while self.fifo.shape[1] >= size or (final and self.fifo.shape[1] > 0):
            chunk, self.fifo = self.fifo[:, :size], self.fifo[:, size:]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=self.layout)
            frame.sample_rate, frame.pts = self.rate, self.samples
            frame.time_base = Fraction(1, self.rate)
            self.samples += chunk.shape[1]
            try:
                out += self.stream.encode(frame)
            except av.error.FFmpegError as ex:
                raise EncodeError("cannot encode the audio track") from ex
        return out

    def _input(self, path: str) -> av.container.InputContainer | None:
        if path not in self._inputs:
            try:
                self._inputs[path] = av.open(path)
            except av.error.FFmpegError as ex:
                raise DecodeError(f"cannot open {path}") from ex
        cont = self._inputs[path]
        return cont if cont.streams.audio else None

    def _read(self, path: str, start: float, count: int) -> _Samples:
        out = np.zeros((self.channels, count), np.float32)
        cont = self._input(path)
        if cont is None:
            return out  # no audio in the source: silence
        stream = cont.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        try:
            cont.seek(max(0, int((start - 1.0) * av.time_base)), backward=True, any_frame=False)
            for frame in cont.decode(stream):
                if frame.pts is None or frame.time is None:
                    continue
                if frame.time + frame.samples / frame.sample_rate < start - 0.05:
                    continue
                for res in resampler.resample(frame):
                    if self._place(out, res, frame.time, start):
                        return out
        except av.error.FFmpegError as ex:
            raise DecodeError(f"cannot decode the audio of {path} at {start:.3f} s") from ex
        return out

    def _place(self, out: _Samples, res: av.AudioFrame, frame_time: float, start: float) -> bool:
        """Copy a resampled frame into ``out``; True when ``out`` is full."""
        assert res.pts is not None
        t0 = float(res.pts * res.time_base) if res.time_base is not None else frame_time
        at = round((t0 - start) * self.rate)
        data = res.to_ndarray()
        lo = max(0, -at)
        hi = min(data.shape[1], out.shape[1] - at)
        if hi > lo:
            out[:, at + lo:at + hi] = data[:, lo:hi]
        return bool(at + data.shape[1] >= out.shape[1])
