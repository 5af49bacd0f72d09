"""Generated title cards: the project title on a dark gradient, fading in and out, at the output's size and rate.

    frames = title_frames("Sintel: the recap", size=(1280, 720), fps=24.0, seconds=3.0)
    write_title_clip("Sintel: the recap", Path("intro.mp4"), size=(1280, 720), fps=24.0)
    first = next(iter(frames))   # BGR uint8, 720 x 1280 x 3

OpenCV 5 draws Unicode text with its built-in fonts (emoji become '?'); with OpenCV 4 text is folded to ASCII.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from media.captions import clean_text, drawable, wrap
from media.errors import EncodeError, OutputError

__all__ = ["render_title", "title_frames", "write_title_clip"]

MAX_TITLE = 120


def _background(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    top, bottom = np.array([46, 24, 18], np.float32), np.array([12, 8, 6], np.float32)  # BGR: deep blue to black
    img = top * (1 - ramp[..., None]) + bottom * ramp[..., None]
    return np.broadcast_to(img, (h, w, 3)).astype(np.uint8).copy()


def render_title(title: str, size: tuple[int, int], subtitle: str | None = None) -> np.ndarray:
    """One still title card (BGR): the title wrapped to at most 3 lines, scaled to fit, centred."""
    w, h = size
    text = drawable(clean_text(title))[:MAX_TITLE] or "Recap"
    lines = list(wrap(text.split(), 28, 3) or (text[:28],))
    font = cv2.FONT_HERSHEY_DUPLEX
    widest = max(cv2.getTextSize(line, font, 1.0, 2)[0][0] for line in lines)
    scale = min(0.8 * w / max(widest, 1), h / 360 * 1.6)
    thick = max(1, round(scale * 1.8))
    line_h = int(cv2.getTextSize("Ag", font, scale, thick)[0][1] * 1.8)
    img = _background(size)
    y = (h - line_h * len(lines)) // 2 + line_h // 2 + int(line_h * 0.3)
    for line in lines:
        tw = cv2.getTextSize(line, font, scale, thick)[0][0]
        cv2.putText(img, line, ((w - tw) // 2, y), font, scale, (240, 240, 240), thick, cv2.LINE_AA)
        y += line_h
    if subtitle:
        sub = drawable(clean_text(subtitle))[:80]
        s_scale = scale * 0.45
        tw = cv2.getTextSize(sub, cv2.FONT_HERSHEY_SIMPLEX, s_scale, 1)[0][0]
        cv2.putText(img, sub, ((w - tw) // 2, min(h - 10, y + line_h // 3)), cv2.FONT_HERSHEY_SIMPLEX, s_scale,
                    (170, 170, 170), max(1, thick // 2), cv2.LINE_AA)
    return img


def title_frames(title: str, size: tuple[int, int], fps: float, seconds: float = 3.0, *,
                 subtitle: str | None = None, fade: float = 0.5) -> Iterator[np.ndarray]:
    """``round(seconds * fps)`` frames of the card, fading in from and out to black over ``fade`` seconds."""
    if not 0.5 <= seconds <= 30:
        raise ValueError("seconds must be in [0.5, 30]")
    if size[0] < 16 or size[1] < 16 or size[0] % 2 or size[1] % 2:
        raise ValueError("size must be even and at least 16x16")
    still = render_title(title, size, subtitle).astype(np.float32)
    n = max(1, round(seconds * fps))
    ramp = max(1, round(fade * fps))
    for i in range(n):
        level = min(1.0, (i + 1) / ramp, (n - i) / ramp)
        yield (still * level).astype(np.uint8)


def write_title_clip(title: str, out_path: Path, size: tuple[int, int], fps: float, seconds: float = 3.0, *,
                     subtitle: str | None = None, sample_rate: int = 48000) -> Path:
    """An H.264 + AAC (silent) clip of the title card, written atomically."""
    tmp = out_path.with_name(f".{out_path.stem}.{uuid.uuid4().hex[:8]}.part{out_path.suffix}")
    rate = Fraction(fps).limit_denominator(1001)
    try:
        with av.open(str(tmp), "w") as out:
            video = out.add_stream("libx264", rate=rate, options={"preset": "veryfast", "crf": "18"})
            video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
            audio = out.add_stream("aac", rate=sample_rate, layout="stereo")
            count = 0
            for img in title_frames(title, size, fps, seconds, subtitle=subtitle):
                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                frame.pts = count
                frame.time_base = 1 / rate
                out.mux(video.encode(frame))
                count += 1
            out.mux(video.encode(None))
            _silence(out, audio, count / float(rate), sample_rate)
        tmp.replace(out_path)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {out_path.name}: {ex.strerror or ex}") from ex
    except av.FFmpegError as ex:
        tmp.unlink(missing_ok=True)
        raise EncodeError(f"cannot encode the title card: {ex}") from ex
    return out_path


def _silence(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float,
             rate: int) -> None:
    total, pts = round(seconds * rate), 0
    while pts < total:
        n = min(1024, total - pts)
        frame = av.AudioFrame.from_ndarray(np.zeros((2, n), np.float32), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, pts
        out.mux(stream.encode(frame))
        pts += n
    out.mux(stream.encode(None))
