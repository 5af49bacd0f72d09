"""Chunks: keyframe splits by packet copy, frame-exact joins, kill -9 then resume, corrupt segments redone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from colab.chunks import split_keyframes
from colab.infer import Upscaler
from colab.manifest import MANIFEST, ChunkOptions, upscale_chunked
from colab.models import load_network
from colab.video import VideoOptions
from tests.media.framegen import make_indexed_clip, read_audio_tones
from tests.upscale.clips import audio_packets, indices, rgb_frames, video_times

ROOT = Path(__file__).resolve().parents[2]
MODEL = "realesr-animevideov3"
VIDEO = VideoOptions(target="native", preset="veryfast", threads=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s, B-frames, a keyframe every 0.5 s: four chunks of 0.5 s."""
    return make_indexed_clip(tmp_path_factory.mktemp("clip") / "in.mp4", frames=24, fps=12, size=(64, 36), gop=6,
                             bframes=2)


@pytest.fixture(scope="module")
def up() -> Upscaler:
    return Upscaler(load_network(MODEL))


@pytest.fixture(scope="module")
def reference(clip: Path, up: Upscaler, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted chunked run."""
    work = tmp_path_factory.mktemp("ref")
    result = upscale_chunked(clip, work / "out.mp4", work / "w", up, MODEL,
                             ChunkOptions(chunk_seconds=0.5, video=VIDEO))
    assert result.processed == [0, 1, 2, 3] and result.skipped == []
    return work / "out.mp4"


def test_split_at_keyframes_by_packet_copy(clip: Path, tmp_path: Path) -> None:
    chunks = split_keyframes(clip, tmp_path, chunk_seconds=0.9)
    assert [c.frames for c in chunks] == [12, 12]
    assert [c.start for c in chunks] == [0.0, 1.0]
    with av.open(str(clip)) as cont:
        source = [bytes(p) for p in cont.demux(cont.streams.video[0]) if p.size]
    copied = []
    for c in chunks:
        with av.open(str(tmp_path / c.name)) as cont:
            packets = [p for p in cont.demux(cont.streams.video[0]) if p.size]
            assert packets[0].is_keyframe
            copied += [bytes(p) for p in packets]
    assert copied == source  # not re-encoded


def test_joins_are_frame_exact_with_audio_in_sync(clip: Path, reference: Path) -> None:
    assert indices(reference) == list(range(24))
    assert video_times(reference) == video_times(clip)
    assert audio_packets(reference) == audio_packets(clip)
    assert read_audio_tones(reference, 12) == read_audio_tones(clip, 12)


def _cli(src: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "upscale", str(src),
                             "-o", str(out), "--target", "native", "--preset", "veryfast", "--chunk-seconds", "0.5",
                             "--threads", "1", "--json", *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _done_segments(work: Path) -> int:
    try:
        return len(json.loads((work / "outputs" / MANIFEST).read_text())["segments"])
    except (OSError, ValueError, KeyError):
        return 0


def test_kill_9_then_resume_processes_only_the_rest(clip: Path, reference: Path, tmp_path: Path) -> None:
    out, work = tmp_path / "out.mp4", tmp_path / "out.upscale"
    proc = _cli(clip, out)
    deadline = time.monotonic() + 240
    while _done_segments(work) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _done_segments(work)
    assert 1 <= done_before < 4 and not out.exists()
    resumed = _cli(clip, out, "--resume")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["skipped"] == list(range(done_before))
    assert summary["processed"] == list(range(done_before, 4))
    assert len(rgb_frames(out)) == 24
    assert all(np.array_equal(a, b) for a, b in zip(rgb_frames(out), rgb_frames(reference), strict=True))
    assert audio_packets(out) == audio_packets(reference)


def test_a_corrupt_segment_is_redone(clip: Path, up: Upscaler, reference: Path, tmp_path: Path) -> None:
    options = ChunkOptions(chunk_seconds=0.5, video=VIDEO)
    work = tmp_path / "w"
    upscale_chunked(clip, tmp_path / "a.mp4", work, up, MODEL, options)
    seg = work / "outputs" / "seg_0002.mp4"
    data = bytearray(seg.read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = bytes(64)
    seg.write_bytes(bytes(data))
    (work / "outputs" / "seg_0003.mp4").unlink()
    again = upscale_chunked(clip, tmp_path / "b.mp4", work, up, MODEL, options)
    assert again.skipped == [0, 1] and again.processed == [2, 3] and again.redone == [2, 3]
    assert all(np.array_equal(a, b) for a, b in zip(rgb_frames(tmp_path / "b.mp4"), rgb_frames(reference),
                                                     strict=True))


def test_other_options_do_not_reuse_segments(clip: Path, up: Upscaler, tmp_path: Path) -> None:
    work = tmp_path / "w"
    upscale_chunked(clip, tmp_path / "a.mp4", work, up, MODEL, ChunkOptions(chunk_seconds=1.0, video=VIDEO))
    other = VideoOptions(target="native", preset="veryfast", threads=1, quality=30)
    again = upscale_chunked(clip, tmp_path / "b.mp4", work, up, MODEL, ChunkOptions(chunk_seconds=1.0, video=other))
    assert again.skipped == [] and again.processed == [0, 1]
