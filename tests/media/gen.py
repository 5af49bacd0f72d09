"""Small deterministic generators of test clips, built with PyAV from code.

    from tests.media.gen import make_clip, fade, checker
    make_clip(tmp_path / "cut.mp4", scenes=[((255, 0, 0), 24), (checker(8), 24)], fps=24)
    # -> a 2 s H.264 clip with one hard cut at frame 24

A scene is ``(spec, n_frames)``; ``spec`` is an RGB colour tuple, a pattern name
(``"checker"``, ``"noise"``, ``"bars"``, ``"gradient"``) or a callable
``(i, width, height) -> uint8 array (h, w, 3)`` where ``i`` counts frames inside
the scene. Other helpers may import these functions; keep their signatures.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

Painter = Callable[[int, int, int], np.ndarray]
Spec = tuple[int, int, int] | str | Painter


def solid(color: tuple[int, int, int]) -> Painter:
    """A flat colour."""
    def paint(i: int, w: int, h: int) -> np.ndarray:
        return np.full((h, w, 3), color, dtype=np.uint8)
    return paint


def checker(cells: int = 8, colors: tuple[tuple[int, int, int], tuple[int, int, int]] = ((250, 250, 250), (10, 10, 10)),
            drift: int = 1) -> Painter:
    """A checkerboard that drifts ``drift`` pixels per frame (some motion, no cut)."""
    def paint(i: int, w: int, h: int) -> np.ndarray:
        cell = max(2, w // cells)
        yy, xx = np.mgrid[0:h, 0:w]
        mask = (((xx + i * drift) // cell + yy // cell) % 2).astype(bool)
        out = np.empty((h, w, 3), dtype=np.uint8)
        out[mask] = colors[0]
        out[~mask] = colors[1]
        return out
    return paint


def noise(seed: int = 0, scale: int = 8) -> Painter:
    """Blocky random texture, new every frame, on a grid that moves too (busy content, no fixed edges)."""
    def paint(i: int, w: int, h: int) -> np.ndarray:
        rng = np.random.default_rng(seed * 100_003 + i)
        small = rng.integers(0, 256, size=(h // scale + 2, w // scale + 2, 3), dtype=np.uint8)
        dy, dx = (int(v) for v in rng.integers(0, scale, size=2))
        return np.ascontiguousarray(small.repeat(scale, 0).repeat(scale, 1)[dy:dy + h, dx:dx + w])
    return paint


def bars(i: int, w: int, h: int) -> np.ndarray:
    """Vertical colour bars."""
    palette = np.array([(235, 235, 235), (235, 235, 16), (16, 235, 235), (16, 235, 16),
                        (235, 16, 235), (235, 16, 16), (16, 16, 235)], dtype=np.uint8)
    idx = (np.arange(w) * len(palette) // w)
    return np.ascontiguousarray(np.broadcast_to(palette[idx][None, :, :], (h, w, 3)))


def gradient(i: int, w: int, h: int) -> np.ndarray:
    """A horizontal grey ramp that scrolls slowly."""
    ramp = ((np.arange(w) + i) * 255 // max(1, w)).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], (h, w, 3)))


def fade(a: Spec, b: Spec, n: int) -> Painter:
    """Linear cross-fade from ``a`` to ``b`` over ``n`` frames (use with n_frames == n)."""
    pa, pb = _painter(a), _painter(b)
    def paint(i: int, w: int, h: int) -> np.ndarray:
        t = i / max(1, n - 1)
        mixed = pa(i, w, h).astype(np.float32) * (1.0 - t) + pb(i, w, h).astype(np.float32) * t
        return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return paint


def with_logo(base: Spec, box: tuple[int, int, int, int]) -> Painter:
    """``base`` with a static white-bordered logo at ``box`` = (x, y, w, h)."""
    pb = _painter(base)
    x, y, bw, bh = box
    def paint(i: int, w: int, h: int) -> np.ndarray:
        img = pb(i, w, h).copy()
        img[y:y + bh, x:x + bw] = (20, 20, 20)
        img[y + 2:y + bh - 2, x + 2:x + bw - 2] = (240, 240, 240)
        img[y + bh // 3:y + 2 * bh // 3, x + bw // 4:x + 3 * bw // 4] = (200, 30, 30)
        return img
    return paint


_PATTERNS: dict[str, Painter] = {"checker": checker(), "noise": noise(), "bars": bars, "gradient": gradient}


def _painter(spec: Spec) -> Painter:
    if callable(spec):
        return spec
    if isinstance(spec, str):
        return _PATTERNS[spec]
    return solid(spec)


def make_clip(path: Path | str, scenes: Sequence[tuple[Spec, int]], *, fps: int = 24, size: tuple[int, int] = (160, 96),
              audio: bool = False, gop: int | None = None, codec: str = "libx264",
              times: Sequence[float] | None = None, audio_freq: float = 440.0) -> Path:
    """Encode ``scenes`` to ``path`` (container from the suffix) and return the path.

    ``times`` gives every frame's timestamp in seconds (variable frame rate); by
    default frame ``k`` is at ``k / fps``. ``audio`` adds a stereo AAC sine tone.
    """
    path = Path(path)
    w, h = size
    total = sum(n for _, n in scenes)
    if times is not None and len(times) != total:
        raise ValueError("times must give one timestamp per frame")
    with av.open(str(path), "w") as out:
        vs = out.add_stream(codec, rate=fps)
        assert isinstance(vs, av.VideoStream)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if times is not None:
            vs.codec_context.time_base = Fraction(1, 1000)
            vs.time_base = Fraction(1, 1000)
        if gop is not None:
            vs.codec_context.gop_size = gop  # type: ignore[attr-defined]
        if codec == "libx264":
            vs.options = {"preset": "ultrafast", "crf": "18", **({"keyint": str(gop)} if gop else {})}
        aus = out.add_stream("aac", rate=48000, layout="stereo") if audio else None
        assert aus is None or isinstance(aus, av.AudioStream)
        if total == 0:
            out.start_encoding()  # header only: a video stream without a single frame
        k = 0
        for spec, n in scenes:
            paint = _painter(spec)
            for i in range(n):
                frame = av.VideoFrame.from_ndarray(paint(i, w, h), format="rgb24")
                frame.pts = round(times[k] * 1000) if times is not None else k
                out.mux(vs.encode(frame.reformat(format="yuv420p")))
                k += 1
        out.mux(vs.encode(None))
        if aus is not None:
            _write_tone(out, aus, (times[-1] if times else total / fps) + 1.0 / fps, audio_freq)
    return path


def _write_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float, freq: float) -> None:
    sr, chunk = 48000, 1024
    n_total = int(seconds * sr)
    for start in range(0, n_total, chunk):
        t = (np.arange(start, min(start + chunk, n_total)) / sr).astype(np.float32)
        wave = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = sr, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def make_audio(path: Path | str, seconds: float = 2.0, codec: str = "flac", freq: float = 440.0) -> Path:
    """An audio-only file (FLAC by default) holding a sine tone."""
    path = Path(path)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=48000, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        _write_tone(out, stream, seconds, freq)
    return path


def set_mp4_rotation(path: Path | str, degrees: int) -> None:
    """Rewrite the first video track's ``tkhd`` matrix in place (as phones do): 90, 180 or 270."""
    data = bytearray(Path(path).read_bytes())
    at = data.find(b"tkhd")
    if at < 0:
        raise ValueError("no tkhd box")
    one, minus = 0x10000, -0x10000
    a, b, c, d = {0: (one, 0, 0, one), 90: (0, one, minus, 0), 180: (minus, 0, 0, minus),
                  270: (0, minus, one, 0)}[degrees % 360]
    version = data[at + 4]
    matrix_at = at + 4 + 4 + (28 if version == 1 else 16) + 4 + 8 + 8
    data[matrix_at:matrix_at + 36] = struct.pack(">9i", a, b, 0, c, d, 0, 0, 0, 0x40000000)
    Path(path).write_bytes(bytes(data))


def truncate_before_moov(src: Path | str, dst: Path | str) -> Path:
    """Copy an MP4 whose ``moov`` box follows ``mdat`` and cut it just before ``moov``."""
    data = Path(src).read_bytes()
    moov, mdat = data.find(b"moov"), data.find(b"mdat")
    if moov < 0 or mdat < 0 or moov < mdat:
        raise ValueError("moov must come after mdat (write without +faststart)")
    Path(dst).write_bytes(data[:moov - 4])
    return Path(dst)
