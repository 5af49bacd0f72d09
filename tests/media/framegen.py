"""Generated test clips whose frames carry their own index, so cuts can be checked to the frame.

Each video frame shows a 6x4 grid of big black/white blocks: 18 bits of frame index and a
6-bit check, readable after lossy encoding and after scaling. The audio plays, during
frame ``n``, a pure tone chosen by ``n % 8``, so A/V sync can be checked per frame::

    make_indexed_clip(path, frames=60, fps=25, size=(160, 96), gop=12)
    assert read_frame_indices(path) == list(range(60))
    assert read_audio_tones(path, 25)[:8] == list(range(8))
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.logging
import av.video.stream
import numpy as np
from numpy.typing import NDArray

COLS, ROWS = 6, 4
INDEX_BITS = 18
CHECK_BITS = COLS * ROWS - INDEX_BITS
SAMPLE_RATE = 48000
TONES = tuple(600.0 + 300.0 * k for k in range(8))


def _check(index: int) -> int:
    return (index * 37 + 11) % (1 << CHECK_BITS)


def _bits(index: int) -> list[int]:
    word = (index << CHECK_BITS) | _check(index)
    return [(word >> (COLS * ROWS - 1 - k)) & 1 for k in range(COLS * ROWS)]


def _cell_edges(size: int, parts: int) -> list[int]:
    return [round(size * k / parts) for k in range(parts + 1)]


def frame_luma(index: int, width: int, height: int) -> NDArray[np.uint8]:
    """The luma plane of frame ``index``: the code blocks over a faint moving ramp."""
    ramp = ((np.arange(width, dtype=np.int32) + 3 * index) % 64).astype(np.uint8)
    img = np.broadcast_to(ramp, (height, width)).copy()
    xs, ys = _cell_edges(width, COLS), _cell_edges(height, ROWS)
    for k, bit in enumerate(_bits(index)):
        r, c = divmod(k, COLS)
        # a thin ramp border keeps cells apart; the block inside is the bit
        y0, y1, x0, x1 = ys[r], ys[r + 1], xs[c], xs[c + 1]
        my, mx = max(1, (y1 - y0) // 10), max(1, (x1 - x0) // 10)
        img[y0 + my:y1 - my, x0 + mx:x1 - mx] = 235 if bit else 16
    return img


def _tone_block(first_sample: int, n: int, frame_index: int) -> NDArray[np.float32]:
    t = (first_sample + np.arange(n)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * TONES[frame_index % len(TONES)] * t)).astype(np.float32)


def make_indexed_clip(path: str | Path, frames: int, fps: float, size: tuple[int, int], gop: int, *,
                      audio: bool = True, codec: str = "libx264", pix_fmt: str = "yuv420p",
                      start_index: int = 0, bframes: int | None = None, preset: str = "veryfast",
                      crf: int = 20, x264_params: str | None = None) -> Path:
    """Write an MP4 of ``frames`` frames whose pixels encode ``start_index + n``; tones in the audio."""
    path = Path(path)
    width, height = size
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream(codec, rate=rate)
        assert isinstance(vs, av.video.stream.VideoStream)
        vs.width, vs.height, vs.pix_fmt = width, height, pix_fmt
        opts = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"}
        if codec == "libx264":
            opts.update(preset=preset, crf=str(crf))
            if bframes is not None:
                opts["bf"] = str(bframes)
            if x264_params:
                opts["x264-params"] = x264_params
        vs.codec_context.options = opts
        aus = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono") if audio else None
        sample = 0
        for n in range(frames):
            luma = frame_luma(start_index + n, width, height)
            frame = _video_frame(luma, pix_fmt)
            frame.pts = n
            frame.time_base = 1 / rate
            out.mux(vs.encode(frame))
            if aus is not None:
                end = round((n + 1) * SAMPLE_RATE / rate)
                block = _tone_block(sample, end - sample, start_index + n)
                af = av.AudioFrame.from_ndarray(block[np.newaxis, :], format="flt", layout="mono")
                af.sample_rate, af.pts = SAMPLE_RATE, sample
                out.mux(aus.encode(af))
                sample = end
        out.mux(vs.encode(None))
        if aus is not None:
            out.mux(aus.encode(None))
    return path


def _video_frame(luma: NDArray[np.uint8], pix_fmt: str) -> av.VideoFrame:
    h, w = luma.shape
    if pix_fmt == "yuv420p":
        chroma = np.full((h // 2, w), 128, np.uint8)
        return av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p")
    return av.VideoFrame.from_ndarray(luma, format="gray").reformat(format=pix_fmt)


def decode_index(luma: NDArray[np.uint8]) -> int:
    """The index a frame's luma carries, or -1 when the code does not check out."""
    h, w = luma.shape
    xs, ys = _cell_edges(w, COLS), _cell_edges(h, ROWS)
    word = 0
    for k in range(COLS * ROWS):
        r, c = divmod(k, COLS)
        y0, y1, x0, x1 = ys[r], ys[r + 1], xs[c], xs[c + 1]
        cy, cx = (y1 - y0) // 4, (x1 - x0) // 4
        word = (word << 1) | int(luma[y0 + cy:y1 - cy, x0 + cx:x1 - cx].mean() > 125)
    index, check = word >> CHECK_BITS, word & ((1 << CHECK_BITS) - 1)
    return index if _check(index) == check else -1


def decode_gray(path: str | Path, *, limit: int | None = None, strict: bool = True) -> list[NDArray[np.uint8]]:
    """The luma of every video frame (the first ``limit`` ones).

    With ``strict``, any error the decoder logs (a broken reference, a bad slice) raises ValueError.
    """
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    out: list[NDArray[np.uint8]] = []
    try:
        with av.logging.Capture(local=False) as logs, av.open(str(path)) as cont:
            stream = cont.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in cont.decode(stream):
                out.append(np.asarray(frame.to_ndarray(format="gray"), np.uint8))
                if limit is not None and len(out) >= limit:
                    break
    finally:
        av.logging.set_level(level)
    errors = [msg for lvl, _, msg in logs if lvl <= av.logging.ERROR]
    if strict and errors:
        raise ValueError(f"decoder errors in {path}: {errors[:3]}")
    return out


def read_frame_indices(path: str | Path, *, strict: bool = True) -> list[int]:
    """Decode every video frame of ``path`` and read the index it shows (-1: unreadable); see ``decode_gray``."""
    return [decode_index(luma) for luma in decode_gray(path, strict=strict)]


def read_audio(path: str | Path) -> tuple[NDArray[np.float32], int]:
    """The first audio stream as mono float samples, and its rate."""
    with av.open(str(path)) as cont:
        stream = cont.streams.audio[0]
        res = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        parts = [f.to_ndarray().reshape(-1) for fr in cont.decode(stream) for f in res.resample(fr)]
        parts += [f.to_ndarray().reshape(-1) for f in res.resample(None)]
        return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), int(stream.rate)


def read_audio_tones(path: str | Path, fps: float) -> list[int | None]:
    """For each video-frame period, which tone (``index % 8``) the audio plays; None for silence."""
    samples, rate = read_audio(path)
    per = rate / fps
    out: list[int | None] = []
    n = int(len(samples) / per)
    freqs = np.fft.rfftfreq(int(per / 2), 1 / rate)
    for j in range(n):
        a = round(j * per + per / 4)
        win = samples[a:a + int(per / 2)]
        spec = np.abs(np.fft.rfft(win * np.hanning(len(win))))
        if spec.max() < 1.0:
            out.append(None)
            continue
        peak = freqs[int(spec.argmax())]
        out.append(int(np.argmin([abs(peak - t) for t in TONES])))
    return out
