"""Small clips for the upscaler tests: tagged colour, variable frame rate, frames that carry their index."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.media.framegen import decode_index, frame_luma


def make_tagged_vfr_clip(path: Path, durations: list[int], size: tuple[int, int] = (64, 36), *,
                         time_base: Fraction = Fraction(1, 1000), gop: int = 4) -> Path:
    """Frames whose pixels carry their index, shown for ``durations`` ticks each; BT.709, limited range."""
    w, h = size
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.time_base = time_base
        vs.codec_context.time_base = time_base
        vs.codec_context.options = {"g": str(gop), "preset": "veryfast", "bf": "0"}
        cc = vs.codec_context
        cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc = 1, 1, 1, 1
        pts = 0
        for n, d in enumerate(durations):
            luma = frame_luma(n, w, h)
            frame = av.VideoFrame.from_ndarray(np.vstack([luma, np.full((h // 2, w), 128, np.uint8)]),
                                               format="yuv420p")
            frame.pts, frame.time_base = pts, time_base
            out.mux(vs.encode(frame))
            pts += d
        out.mux(vs.encode(None))
    return path


def video_times(path: Path) -> list[Fraction]:
    """Every decoded frame's presentation time, exactly."""
    with av.open(str(path)) as cont:
        stream = cont.streams.video[0]
        return [Fraction(f.pts) * Fraction(stream.time_base or 1) for f in cont.decode(stream)]


def audio_packets(path: Path) -> list[tuple[Fraction, bytes]]:
    with av.open(str(path)) as cont:
        if not cont.streams.audio:
            return []
        return [(Fraction(p.pts) * Fraction(p.time_base), bytes(p)) for p in cont.demux(cont.streams.audio[0])
                if p.size]


def rgb_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as cont:
        return [f.to_ndarray(format="rgb24") for f in cont.decode(video=0)]


def stream_info(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as cont:
        vs = cont.streams.video[0]
        cc = vs.codec_context
        return {"size": (vs.width, vs.height), "frames": sum(1 for _ in cont.decode(vs)),
                "color": (cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc),
                "audio": [s.codec_context.name for s in cont.streams.audio]}


def indices(path: Path) -> list[int]:
    with av.open(str(path)) as cont:
        return [decode_index(f.to_ndarray(format="gray")) for f in cont.decode(video=0)]
