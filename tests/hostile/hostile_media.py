"""Hostile media made in the test from code (PyAV and bytes); nothing big is ever committed.

    data = media_bytes("y4m-16k")       # cached per session, a few KB each
"""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import av
import numpy as np

from tests.media.gen import make_audio, make_clip


@cache
def clip() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = make_clip(Path(tmp) / "c.mp4", [("noise", 12), ((200, 30, 30), 12)], audio=True)
        return Path(path).read_bytes()


def _audio(codec: str = "flac") -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return Path(make_audio(Path(tmp) / f"a.{'flac' if codec == 'flac' else 'wav'}", 1.0, codec=codec)).read_bytes()


def _durations(timescale: int, duration: int) -> bytes:
    """The clip with every mvhd/mdhd (version 0) claiming ``duration`` / ``timescale`` seconds."""
    data = bytearray(clip())
    for box in (b"mvhd", b"mdhd"):
        at = data.find(box)
        while at >= 0:
            # 4 type, 1 version, 3 flags, 4 created, 4 modified, then timescale and duration
            data[at + 16:at + 24] = struct.pack(">II", timescale, duration)
            at = data.find(box, at + 4)
    return bytes(data)


def _y4m(width: int, height: int) -> bytes:
    return f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n" + b"\x80" * 4096


def _jpeg_bomb() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuvj420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in stream.encode(frame.reformat(format="yuvj420p")):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = buf.getvalue()
    sof = data.index(b"\xff\xc0")
    return data[:sof + 5] + struct.pack(">HH", 16000, 16000) + data[sof + 9:]


def _png_bomb() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 16384, 16384, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 65536)) + \
        chunk(b"IEND", b"")


def _many_audio_streams(count: int) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as out:
        streams = [out.add_stream("pcm_s16le", rate=8000) for _ in range(count)]
        for stream in streams:
            stream.layout = "mono"  # type: ignore[attr-defined]
        for stream in streams:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 80), np.int16), format="s16", layout="mono")
            frame.sample_rate = 8000
            for packet in stream.encode(frame):  # type: ignore[attr-defined]
                out.mux(packet)
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("movie.mp4", b"\x00" * (20 * 1024 * 1024))
    return buf.getvalue()


def _no_moov() -> bytes:
    data = clip()
    moov = data.index(b"moov") - 4
    size = struct.unpack(">I", data[moov:moov + 4])[0]
    return data[:moov] + data[moov + size:]


SRT = b"1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 --> 99:59:59,999\nForever\n"

MEDIA: dict[str, Callable[[], bytes]] = {
    "random-bytes": lambda: np.random.default_rng(7).integers(0, 256, 65536, dtype=np.uint8).tobytes(),
    "truncated-half": lambda: clip()[: len(clip()) // 2],
    "truncated-1kb": lambda: clip()[:1024],
    "no-moov": _no_moov,
    "html-polyglot": lambda: b"<html><script>alert(document.cookie)</script><!--" + clip(),
    "gif-js-polyglot": lambda: b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=alert(1);//" + b"\x00" * 64,
    "pdf-polyglot": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + clip(),
    "y4m-16k-by-16k": lambda: _y4m(16384, 16384),
    "y4m-100000-by-1": lambda: _y4m(100000, 2),
    "jpeg-16000-by-16000": _jpeg_bomb,
    "png-16k-by-16k": _png_bomb,
    "duration-136-years": lambda: _durations(1, 0xFFFFFFFF),
    "timescale-zero": lambda: _durations(0, 1000),
    "audio-only": lambda: _audio("flac"),
    "many-audio-streams": lambda: _many_audio_streams(1000),  # PyAV's muxer crashes past ~1500
    "subtitles-srt": lambda: SRT,
    "subtitles-vtt": lambda: b"WEBVTT\n\n00:00.000 --> 00:01.000\n<script>alert(1)</script>\n",
    "zip-bomb": _zip_bomb,
    "zeros-1mb": lambda: b"\x00" * (1024 * 1024),
}


@cache
def media_bytes(name: str) -> bytes:
    return MEDIA[name]()
