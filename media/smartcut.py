"""Smart cutting of H.264: copy whole GOPs, re-encode only the partial GOPs at cut edges.

A clip ``[first, end)`` (source frame indices) is read GOP by GOP. A GOP that lies wholly
inside the clip and starts with an IDR picture is copied packet for packet. At the tail,
the longest decode-order prefix of the GOP that shows exactly the frames ``[k, m)`` is
copied too (all of it when the source has no B-frames). Everything else (the head of a
clip that starts mid-GOP, the last few frames of a tail) is decoded and re-encoded with
x264 as a closed GOP that starts with an IDR and carries its SPS/PPS in band; the
source's SPS/PPS are repeated in band where copied packets resume, so one decoder
reads every part of the stream::

    sink = PacketSink(out_container, out_stream, rate=Fraction(24), avc=avc_config)
    with SmartSource("movie.mp4", EdgeEncoding(preset="veryfast", crf=18)) as src:
        copied, encoded = src.cut(120, 260, sink, base=0)  # source frames 120..259 -> output 0..139
    sink.pump(block=True)
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from types import TracebackType

import av
import av.container
import av.error
import av.stream
import av.video.stream
from av.video.frame import PictureType

from media.errors import CancelledError, DecodeError, EncodeError
from media.types import CancelFn, never_cancel

#: Output decode-order delay in frames: dts = (packet number - DELAY) frame periods.
DELAY = 4
_START_CODE = re.compile(b"\x00\x00\x01")


@dataclass(frozen=True, slots=True)
class EdgeEncoding:
    """x264 settings for the re-encoded edges."""

    preset: str = "veryfast"
    crf: int = 18
    threads: int = 0


@dataclass(frozen=True, slots=True)
class AvcConfig:
    """What the smart path needs from an ``avcC`` record."""

    length_size: int
    headers: tuple[bytes, ...]
    profile_idc: int

    @classmethod
    def parse(cls, extradata: bytes | None) -> AvcConfig | None:
        """Parse ``avcC``; None when the stream is not length-prefixed H.264."""
        if not extradata or len(extradata) < 7 or extradata[0] != 1:
            return None
        data, pos, nals = extradata, 6, []
        try:
            for count_pos in (5, None):
                count = data[5] & 0x1F if count_pos == 5 else data[pos - 1]
                for _ in range(count):
                    size = int.from_bytes(data[pos:pos + 2], "big")
                    nals.append(bytes(data[pos + 2:pos + 2 + size]))
                    pos += 2 + size
                pos += 1
        except IndexError:
            return None
        return cls((data[4] & 3) + 1, tuple(nals), data[1])

    def frame(self, nals: list[bytes]) -> bytes:
        """Length-prefix NAL units."""
        return b"".join(len(n).to_bytes(self.length_size, "big") + n for n in nals)

    def from_annexb(self, data: bytes) -> bytes:
        """Annex B (start codes) to length-prefixed NAL units."""
        return self.frame([n.rstrip(b"\x00") for n in _START_CODE.split(data) if n.strip(b"\x00")])

    def nal_types(self, data: bytes) -> list[int]:
        types, pos, n = [], 0, self.length_size
        while pos + n < len(data):
            size = int.from_bytes(data[pos:pos + n], "big")
            types.append(data[pos + n] & 0x1F)
            pos += n + size
        return types


_Item = tuple[bytes | av.Packet, int, bool]


class PacketSink:
    """Muxes video packets in order with output timestamps in frame units.

    pts = output frame number, dts = packet number - DELAY. Re-encoded edges may arrive
    as futures (encoded on worker threads); packets queue behind them and are written
    in order as they complete.
    """

    def __init__(self, container: av.container.OutputContainer, stream: av.video.stream.VideoStream,
                 rate: Fraction, avc: AvcConfig, delay: int = DELAY, max_pending: int = 8) -> None:
        self.container, self.stream, self.avc, self.delay = container, stream, avc, delay
        self.time_base = 1 / rate
        self.packets = 0
        self.active_headers: int | None = None
        self.max_pending = max_pending
        self._queue: deque[list[_Item] | Future[list[_Item]]] = deque()

    def put(self, data: bytes | av.Packet, frame_no: int, keyframe: bool) -> None:
        if self._queue:
            last = self._queue[-1]
            if isinstance(last, list):
                last.append((data, frame_no, keyframe))
            else:
                self._queue.append([(data, frame_no, keyframe)])
        else:
            self._write(data, frame_no, keyframe)

    def put_later(self, items: Future[list[_Item]]) -> None:
        self._queue.append(items)
        self.pump(block=sum(isinstance(q, Future) for q in self._queue) > self.max_pending)

    def pump(self, block: bool = False) -> None:
        """Write queued packets up to the first edge still being encoded (all of them with ``block``)."""
        while self._queue:
            head = self._queue[0]
            if isinstance(head, Future):
                if not (block or head.done()):
                    return
                items = head.result()
            else:
                items = head
            self._queue.popleft()
            for item in items:
                self._write(*item)

    def cancel(self) -> None:
        for item in self._queue:
            if isinstance(item, Future):
                item.cancel()
        self._queue.clear()

    def _write(self, data: bytes | av.Packet, frame_no: int, keyframe: bool) -> None:
        if self.packets - self.delay > frame_no:
            raise EncodeError(f"packet order needs a decode delay above {self.delay} frames")
        pkt = data if isinstance(data, av.Packet) else av.Packet(data)
        pkt.stream = self.stream
        pkt.time_base = self.time_base
        pkt.pts, pkt.dts, pkt.duration = frame_no, self.packets - self.delay, 1
        pkt.is_keyframe = keyframe
        self.container.mux(pkt)
        self.packets += 1


@dataclass(slots=True)
class _Gop:
    packets: list[tuple[av.Packet, int]]
    idr: bool

    def frames(self) -> list[int]:
        return sorted(i for _, i in self.packets)

    def contiguous(self) -> bool:
        f = self.frames()
        return f == list(range(f[0], f[0] + len(f)))


class SmartSource:
    """One H.264 source opened for smart cutting."""

    def __init__(self, path: str, edges: EdgeEncoding, source_key: int = 0,
                 cancel: CancelFn = never_cancel, pool: ThreadPoolExecutor | None = None) -> None:
        self.path, self.edges, self.key, self.cancel, self.pool = path, edges, source_key, cancel, pool
        try:
            self.container = av.open(path)
            self.stream = self.container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as ex:
            raise DecodeError(f"cannot open video of {path}") from ex
        self.stream.thread_type = "AUTO"
        self.avc = AvcConfig.parse(self.stream.codec_context.extradata)
        rate = self.stream.average_rate or self.stream.guessed_rate
        if rate is None:
            raise DecodeError(f"{path}: unknown frame rate")
        self.rate = Fraction(rate)
        self.tb = Fraction(self.stream.time_base or Fraction(1, 90000))
        self.start = self.stream.start_time or 0

    def __enter__(self) -> SmartSource:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.container.close()

    def index_of(self, pts: int) -> int:
        return round((pts - self.start) * self.tb * self.rate)

    # ----------------------------------------------------------------- reading

    def _gops(self, first: int, end: int) -> Iterator[_Gop]:
        """The GOPs that hold frames ``[first, end)``, in decode order."""
        back = Fraction(0)
        while True:
            target = self.start + int(max(Fraction(0), first / self.rate - back) / self.tb)
            self.container.seek(target, stream=self.stream, backward=True, any_frame=False)
            gops = self._read_from_seek(first, end)
            head = next(gops, None)
            if head is None or head.frames()[0] <= first or back > 60 or target <= self.start:
                break
            back += 2  # landed after the clip start: seek earlier
        if head is None:
            return
        yield head
        yield from gops

    def _read_from_seek(self, first: int, end: int) -> Iterator[_Gop]:
        assert self.avc is not None
        gop: _Gop | None = None
        try:
            for pkt in self.container.demux(self.stream):
                if pkt.pts is None or pkt.size == 0:
                    continue
                idx = self.index_of(pkt.pts)
                if pkt.is_keyframe:
                    if gop is not None and gop.frames()[-1] >= first:
                        yield gop
                    if idx >= end:
                        return
                    gop = _Gop([], 5 in self.avc.nal_types(bytes(pkt)))
                if gop is not None:
                    gop.packets.append((pkt, idx))
        except av.error.FFmpegError as ex:
            raise DecodeError(f"cannot read {self.path}") from ex
        if gop is not None and gop.frames()[-1] >= first:
            yield gop

    # ----------------------------------------------------------------- cutting

    def cut(self, first: int, end: int, sink: PacketSink, base: int) -> tuple[int, int]:
        """Write frames ``[first, end)`` as output frames ``base...``; returns (copied, re-encoded) counts."""
        copied = encoded = 0
        pending: list[_Gop] = []  # GOPs feeding the re-encode range [enc_from, enc_to)
        enc_from = enc_to = -1
        for gop in self._gops(first, end):
            if self.cancel():
                raise CancelledError("assembly cancelled")
            frames = gop.frames()
            lo, hi = max(first, frames[0]), min(end, frames[-1] + 1)
            if hi <= lo:
                continue
            prefix = self._copyable_prefix(gop, lo, hi)
            if prefix:
                if pending:
                    encoded += self._encode(pending, enc_from, enc_to, sink, base - first)
                    pending = []
                self._copy(prefix, sink, base - first)
                copied += len(prefix)
                lo += len(prefix)
            if lo < hi:
                if not pending:
                    enc_from = lo
                pending.append(gop)
                enc_to = hi
        if pending:
            encoded += self._encode(pending, enc_from, enc_to, sink, base - first)
        if copied + encoded != end - first:
            raise DecodeError(f"{self.path}: frames {first}..{end} are not all in the source "
                              f"(got {copied + encoded})")
        return copied, encoded

    def _copyable_prefix(self, gop: _Gop, lo: int, hi: int) -> list[tuple[av.Packet, int]]:
        """The longest decode-order prefix of the GOP showing exactly frames [k, m) with k == lo, m <= hi."""
        frames = gop.frames()
        if not gop.idr or frames[0] != lo or not gop.contiguous():
            return []
        best, seen_max = 0, -1
        for n, (_, idx) in enumerate(gop.packets, 1):
            seen_max = max(seen_max, idx)
            if seen_max >= hi or n - 1 - (idx - lo) > DELAY:
                break
            if seen_max - lo + 1 == n:
                best = n
        return gop.packets[:best]

    def _copy(self, packets: list[tuple[av.Packet, int]], sink: PacketSink, shift: int) -> None:
        assert self.avc is not None
        for n, (pkt, idx) in enumerate(packets):
            if n == 0 and sink.active_headers != self.key:
                sink.put(self.avc.frame(list(self.avc.headers)) + bytes(pkt), idx + shift, True)
                sink.active_headers = self.key
            else:
                sink.put(pkt, idx + shift, pkt.is_keyframe)

    def _encode(self, gops: list[_Gop], lo: int, hi: int, sink: PacketSink, shift: int) -> int:
        """Re-encode frames [lo, hi) as one closed GOP: on the pool when there is one, else here."""
        packets = [p for g in gops for p in g.packets]
        last = max(n for n, (_, i) in enumerate(packets) if lo <= i < hi)
        if self.pool is None:
            for item in self._edge(packets[:last + 1], lo, hi, shift):
                sink.put(*item)
        else:
            sink.put_later(self.pool.submit(self._edge, packets[:last + 1], lo, hi, shift))
        sink.active_headers = None
        return hi - lo

    def _edge(self, packets: list[tuple[av.Packet, int]], lo: int, hi: int, shift: int) -> list[_Item]:
        """Decode ``packets`` with a decoder of its own, re-encode frames [lo, hi); thread-safe."""
        assert self.avc is not None
        dec = av.CodecContext.create(self.stream.codec_context.name, "r")
        assert isinstance(dec, av.video.codeccontext.VideoCodecContext)
        dec.extradata = self.stream.codec_context.extradata
        dec.thread_type = "AUTO"
        try:
            frames = [f for pkt, _ in packets for f in dec.decode(pkt)] + dec.decode(None)
        except av.error.FFmpegError as ex:
            raise DecodeError(f"cannot decode {self.path} near frame {lo}") from ex
        keep = sorted((f for f in frames if f.pts is not None and lo <= self.index_of(f.pts) < hi),
                      key=lambda f: f.pts or 0)
        if len(keep) != hi - lo:
            raise DecodeError(f"{self.path}: frames {lo}..{hi} decode to {len(keep)} pictures")
        enc = self._encoder()
        try:
            out: list[av.Packet] = []
            for n, frame in enumerate(keep):
                assert isinstance(frame, av.VideoFrame)
                frame.pts, frame.time_base, frame.pict_type = n, enc.time_base, PictureType.NONE
                out += enc.encode(frame)
            out += enc.encode(None)
        except av.error.FFmpegError as ex:
            raise EncodeError(f"cannot re-encode frames {lo}..{hi} of {self.path}") from ex
        return [(self.avc.from_annexb(bytes(p)), lo + (p.pts or 0) + shift, p.is_keyframe) for p in out]

    def _encoder(self) -> av.video.codeccontext.VideoCodecContext:
        src = self.stream.codec_context
        enc = av.CodecContext.create("libx264", "w")
        assert isinstance(enc, av.video.codeccontext.VideoCodecContext)
        enc.width, enc.height, enc.pix_fmt = src.width, src.height, src.pix_fmt or "yuv420p"
        enc.time_base, enc.framerate = 1 / self.rate, self.rate
        if src.sample_aspect_ratio:
            enc.sample_aspect_ratio = src.sample_aspect_ratio
        enc.color_range, enc.colorspace = src.color_range, src.colorspace
        enc.color_primaries, enc.color_trc = src.color_primaries, src.color_trc
        enc.thread_count = self.edges.threads
        opts = {"preset": self.edges.preset, "crf": str(self.edges.crf), "profile": _x264_profile(self.avc)}
        if opts["profile"] == "baseline":
            enc.max_b_frames = 0
        enc.options = opts
        return enc


def _x264_profile(avc: AvcConfig | None) -> str:
    idc = avc.profile_idc if avc else 100
    return {66: "baseline", 77: "main"}.get(idc, "high")


def smart_profile_ok(avc: AvcConfig | None, pix_fmt: str | None) -> str | None:
    """None when the smart path can handle a stream; else the reason it cannot."""
    if avc is None:
        return "not length-prefixed H.264"
    if avc.profile_idc not in (66, 77, 88, 100):
        return f"H.264 profile {avc.profile_idc} is not 8-bit 4:2:0"
    if pix_fmt not in ("yuv420p", "yuvj420p"):
        return f"pixel format {pix_fmt}"
    return None
