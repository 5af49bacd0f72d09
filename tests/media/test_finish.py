"""Finishing: copy-mux, title card + outro clip + crossfades, burned-in captions, atomic output, errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from media.captions import Cue
from media.errors import MediaError
from media.finish import FinishOptions, finish, shift_cues
from media.titlecard import render_title, title_frames, write_title_clip
from media.tts import write_wav


def _clip(path: Path, seconds: float, fps: int, size: tuple[int, int], level: int, audio: bool = False) -> Path:
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "g": str(fps)})
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
        a = c.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for i in range(round(seconds * fps)):
            img = np.full((size[1], size[0], 3), level, np.uint8)
            img[:, (i * 4) % size[0]] = 255   # a moving bar so frames differ
            f = av.VideoFrame.from_ndarray(img, format="bgr24")
            f.pts, f.time_base = i, Fraction(1, fps)
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        if a is not None:
            t = np.arange(round(seconds * 48000)) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
            for pos in range(0, len(t), 1024):
                blk = np.stack([tone[pos:pos + 1024]] * 2)
                fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(blk), format="fltp", layout="stereo")
                fr.sample_rate, fr.pts = 48000, pos
                c.mux(a.encode(fr))
            c.mux(a.encode(None))
    return path


def _mix(path: Path, seconds: float) -> Path:
    t = np.arange(round(seconds * 48000)) / 48000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    write_wav(path, np.stack([tone, tone], axis=1), 48000)
    return path


def _read(path: Path) -> tuple[list[np.ndarray], float, float, str]:
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(c.streams.video[0])]
        rate = float(c.streams.video[0].average_rate)
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(c.streams.audio[0]))
        return frames, len(frames) / rate, samples / 48000, c.streams.audio[0].codec_context.name


def test_copy_mux_replaces_audio(tmp_path: Path) -> None:
    program = _clip(tmp_path / "cut.mp4", 3.0, 24, (320, 180), 60, audio=True)
    out = tmp_path / "final.mp4"
    result = finish(program, _mix(tmp_path / "mix.wav", 3.0), out)
    assert result.copied_video and result.program_offset == 0.0
    frames, vdur, adur, codec = _read(out)
    assert len(frames) == 72 and codec == "aac"
    assert abs(vdur - adur) < 1 / 24 + 0.03
    assert not list(tmp_path.glob(".*part*"))


def test_title_outro_crossfade_and_burn_in(tmp_path: Path) -> None:
    program = _clip(tmp_path / "cut.mp4", 4.0, 24, (320, 180), 30)
    outro = _clip(tmp_path / "outro.mp4", 2.0, 30, (640, 480), 200, audio=True)   # other size and rate
    cues = (Cue(1.0, 2.5, ("Hello there",)),)
    opts = FinishOptions(title="Sintel — the \x00recap 🐉", title_seconds=2.0, outro=outro, crossfade=0.5,
                         cues=cues)
    out = tmp_path / "final.mp4"
    result = finish(program, _mix(tmp_path / "mix.wav", 4.0), out, opts)
    assert not result.copied_video
    assert result.program_offset == pytest.approx(1.5)
    frames, vdur, adur, _ = _read(out)
    assert frames[0].shape == (180, 320, 3)
    assert vdur == pytest.approx(2.0 + 4.0 + 2.0 - 2 * 0.5, abs=1 / 24)
    assert abs(vdur - adur) < 0.05
    # the caption is burned in at program time 1.0-2.5 s, i.e. final 2.5-4.0 s, near the bottom
    at = frames[round(3.2 * 24)]
    before = frames[round(5.0 * 24)]
    assert (at[120:, :, :].min(axis=2) > 200).sum() > 100
    assert (before[120:, :, :].min(axis=2) > 200).sum() < (at[120:, :, :].min(axis=2) > 200).sum() / 2
    # the outro is letterboxed to the program's size
    assert frames[-1][90, 160].mean() > 150


def test_shift_cues() -> None:
    assert shift_cues([Cue(1.0, 2.0, ("a",))], 2.5) == (Cue(3.5, 4.5, ("a",)),)


def test_title_card_frames_and_clip(tmp_path: Path) -> None:
    still = render_title("A very long title " * 20 + "\u202e\x1b[0m", (640, 360))
    assert still.shape == (360, 640, 3) and still.max() > 200
    frames = list(title_frames("T", (640, 360), 25.0, 2.0))
    assert len(frames) == 50 and frames[0].mean() < frames[25].mean()
    clip = write_title_clip("Ünïcode title", tmp_path / "intro.mp4", (640, 360), 25.0, 1.0)
    got, vdur, adur, _ = _read(clip)
    assert len(got) == 25 and abs(vdur - adur) < 0.05


def test_bad_inputs(tmp_path: Path) -> None:
    program = _clip(tmp_path / "cut.mp4", 1.0, 24, (320, 180), 60)
    with pytest.raises(ValueError, match="crossfade"):
        FinishOptions(crossfade=5.0)
    with pytest.raises(MediaError) as ex:
        finish(program, None, tmp_path / "missing" / "out.mp4")
    assert ex.value.code in ("OUTPUT_FAILED", "ENCODE_FAILED")
    not_video = tmp_path / "x.mp4"
    not_video.write_bytes(b"not a video at all")
    with pytest.raises(MediaError) as ex2:
        finish(not_video, None, tmp_path / "o.mp4")
    assert ex2.value.code == "DECODE_FAILED"
    assert not (tmp_path / "o.mp4").exists()


def test_disk_full_is_output_error(tmp_path: Path) -> None:
    import resource
    import signal

    program = _clip(tmp_path / "cut.mp4", 3.0, 24, (320, 180), 60)
    mix = _mix(tmp_path / "mix.wav", 3.0)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, hard))   # a "disk" that fills up mid-write
    try:
        with pytest.raises(MediaError) as ex:
            finish(program, mix, tmp_path / "final.mp4", FinishOptions(title="Full disk"))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert ex.value.code in ("OUTPUT_FAILED", "ENCODE_FAILED")
    assert not (tmp_path / "final.mp4").exists() and not list(tmp_path.glob(".*part*"))
