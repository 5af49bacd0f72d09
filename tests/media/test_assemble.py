"""Assembly: re-encode path exactness, A/V sync, mixed sources, silent sources, real media, bad input."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import av.video.stream
import numpy as np
import pytest

from media.assemble import AssembleOptions, AssembleResult, assemble
from media.edl import BeatSlot, EditList, EdlClip, EdlSource, retime
from media.errors import CancelledError, DecodeError, EditListError, MediaError, OutputError
from media.profiles import PROFILES, get_profile
from tests.media.framegen import (
    decode_gray,
    frame_luma,
    make_indexed_clip,
    read_audio,
    read_audio_tones,
    read_frame_indices,
)

FPS = 25.0
FRAMES = 150
SIZE = (192, 108)


@pytest.fixture(scope="module")
def clip12(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_indexed_clip(tmp_path_factory.mktemp("a") / "g12.mp4", FRAMES, FPS, SIZE, 12)


@pytest.fixture(scope="module")
def by_gop(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("gops")
    return {gop: make_indexed_clip(folder / f"g{gop}.mp4", FRAMES, FPS, SIZE, gop) for gop in (12, 30)}


def _edl(cuts: list[tuple[Path, float, int, int]], speed: float = 1.0) -> EditList:
    """Cuts as (path, fps, first frame, end frame)."""
    ids = {p: f"s{n}" for n, p in enumerate(dict.fromkeys(c[0] for c in cuts))}
    fps_of = {c[0]: c[1] for c in cuts}
    clips = retime(EdlClip(ids[p], str(p), a / f, b / f, 0, 0.0, speed=speed) for p, f, a, b in cuts)
    srcs = tuple(EdlSource(ids[p], str(p), fps_of[p], _duration(p)) for p in ids)
    return EditList(srcs, (BeatSlot(0, 0.0, sum(c.duration for c in clips)),), clips)


def _duration(path: Path) -> float:
    with av.open(str(path)) as cont:
        return (cont.duration or 0) / av.time_base


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- re-encode path


@pytest.mark.parametrize("gop", [12, 30])
@pytest.mark.parametrize(("first", "end"), [(12, 36), (7, 31), (11, 12), (29, 30), (0, 5), (140, 150)])
def test_reencode_cut_exact(by_gop: dict[int, Path], tmp_path: Path, gop: int, first: int, end: int) -> None:
    src = by_gop[gop]
    result = assemble(_edl([(src, FPS, first, end), (src, FPS, 60, 70)]), tmp_path / "out.mp4",
                      AssembleOptions(mode="reencode"))
    assert result.mode == "reencode" and result.reencoded_frames == result.frames
    assert read_frame_indices(result.path) == [*range(first, end), *range(60, 70)]


def test_smart_and_reencode_agree(clip12: Path, tmp_path: Path) -> None:
    cuts = [(clip12, FPS, 5, 40), (clip12, FPS, 90, 91), (clip12, FPS, 47, 83)]
    smart = assemble(_edl(cuts), tmp_path / "smart.mp4")
    full = assemble(_edl(cuts), tmp_path / "full.mp4", AssembleOptions(mode="reencode"))
    assert smart.mode == "smart" and full.mode == "reencode"
    assert read_frame_indices(smart.path) == read_frame_indices(full.path)
    assert smart.frames == full.frames == 35 + 1 + 36
    assert smart.audio_samples == full.audio_samples


def test_av_sync_over_30_cuts(clip12: Path, tmp_path: Path) -> None:
    rng = random.Random(30)
    cuts = []
    for _ in range(30):
        a = rng.randrange(0, FRAMES - 2)
        cuts.append((clip12, FPS, a, min(FRAMES, a + rng.randrange(2, 20))))
    result = assemble(_edl(cuts), tmp_path / "out.mp4")
    got = read_frame_indices(result.path)
    assert got == [i for _, _, a, b in cuts for i in range(a, b)]
    # the tone heard during each output frame is the one its source frame carried
    tones = read_audio_tones(result.path, FPS)
    matches = sum(1 for g, t in zip(got, tones, strict=False) if t == g % 8)
    assert matches >= 0.97 * len(got)
    samples, rate = read_audio(result.path)
    assert abs(len(samples) / rate - len(got) / FPS) <= 1 / FPS
    with av.open(result.path) as cont:
        vs, aus = cont.streams.video[0], cont.streams.audio[0]
        assert vs.duration is not None and aus.duration is not None
        assert vs.time_base is not None and aus.time_base is not None
        assert abs(float(vs.duration * vs.time_base) - float(aus.duration * aus.time_base)) <= 1 / FPS


def test_mixed_rates_and_sizes_reencode(tmp_path: Path) -> None:
    a = make_indexed_clip(tmp_path / "a.mp4", 60, 25, (192, 108), 12)
    b = make_indexed_clip(tmp_path / "b.mp4", 90, 30, (384, 216), 15, start_index=5000)
    result = assemble(_edl([(a, 25.0, 10, 35), (b, 30.0, 20, 50), (a, 25.0, 40, 45)]), tmp_path / "out.mp4")
    assert result.mode == "reencode" and "differ" in result.reason
    assert (result.width, result.height, result.fps) == (192, 108, 25.0)
    assert result.clip_frames == (0, 25, 50)
    # b plays 1 s = 25 output frames; frame j shows b's frame on screen at 20/30 + j/25 s
    from_b = [5000 + math.floor((20 / 30 + j / 25) * 30 + 1e-6) for j in range(25)]
    assert read_frame_indices(result.path) == [*range(10, 35), *from_b, *range(40, 45)]


def test_profile_720p_scales(tmp_path: Path) -> None:
    a = make_indexed_clip(tmp_path / "a.mp4", 30, 25, (192, 108), 12)
    result = assemble(_edl([(a, 25.0, 3, 20)]), tmp_path / "out.mp4", AssembleOptions(profile="720p"))
    assert result.mode == "reencode" and (result.width, result.height) == (1280, 720)
    assert read_frame_indices(result.path) == list(range(3, 20))


def test_other_aspect_is_letterboxed(tmp_path: Path) -> None:
    a = make_indexed_clip(tmp_path / "a.mp4", 20, 25, (192, 108), 10)
    b = make_indexed_clip(tmp_path / "b.mp4", 20, 25, (144, 108), 10)
    result = assemble(_edl([(a, 25.0, 0, 10), (b, 25.0, 0, 10)]), tmp_path / "out.mp4")
    with av.open(result.path) as cont:
        frames = [f.to_ndarray(format="gray") for f in cont.decode(video=0)]
    assert len(frames) == 20 and frames[0].shape == (108, 192)
    assert frames[15][:, :20].mean() < 20  # black bar left of the 4:3 picture


def test_speed_change(clip12: Path, tmp_path: Path) -> None:
    result = assemble(_edl([(clip12, FPS, 20, 45)], speed=1.25), tmp_path / "out.mp4")
    assert result.mode == "reencode" and result.frames == 20
    assert read_frame_indices(result.path) == [20 + math.floor(j * 1.25 + 1e-6) for j in range(20)]


def test_frame_filter_forces_reencode(clip12: Path, tmp_path: Path) -> None:
    times: list[float] = []

    def mark(frame: av.VideoFrame, t: float) -> av.VideoFrame:
        times.append(t)
        return frame

    result = assemble(_edl([(clip12, FPS, 0, 12)]), tmp_path / "out.mp4", AssembleOptions(frame_filter=mark))
    assert result.mode == "reencode" and "pixels" in result.reason
    assert times == pytest.approx([j / FPS for j in range(12)])


def test_source_without_audio_gets_silence(tmp_path: Path) -> None:
    a = make_indexed_clip(tmp_path / "a.mp4", 48, FPS, SIZE, 12)
    mute = make_indexed_clip(tmp_path / "mute.mp4", 48, FPS, SIZE, 12, audio=False, start_index=100)
    result = assemble(_edl([(a, FPS, 0, 24), (mute, FPS, 12, 36)]), tmp_path / "out.mp4")
    assert result.mode == "copy"  # cuts on keyframes
    samples, rate = read_audio(result.path)
    half = int(24 * rate / FPS)
    assert np.abs(samples[half + 2000:]).max() < 1e-3
    assert np.abs(samples[:half - 2000]).max() > 0.1
    assert read_frame_indices(result.path) == [*range(24), *range(112, 136)]


def test_progress_and_json(clip12: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    result = assemble(_edl([(clip12, FPS, 0, 30), (clip12, FPS, 50, 80)]), tmp_path / "out.mp4",
                      progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert result.clip_frames == (0, 30) and result.clip_start(1) == pytest.approx(30 / FPS)
    assert AssembleResult.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert _files(tmp_path) == ["out.mp4"]


def test_open_gop_source_falls_back_to_reencode(tmp_path: Path) -> None:
    src = make_indexed_clip(tmp_path / "open.mp4", 100, FPS, SIZE, 12, bframes=3, x264_params="open-gop=1")
    cuts = [(src, FPS, 5, 40), (src, FPS, 70, 90), (src, FPS, 13, 30)]
    result = assemble(_edl(cuts), tmp_path / "out.mp4")
    assert result.mode == "reencode" and "smart render failed" in result.reason
    assert read_frame_indices(result.path) == [i for _, _, a, b in cuts for i in range(a, b)]
    with pytest.raises(DecodeError):
        assemble(_edl(cuts), tmp_path / "smart.mp4", AssembleOptions(mode="smart"))
    assert _files(tmp_path) == ["open.mp4", "out.mp4"]


def test_variable_frame_rate_source(tmp_path: Path) -> None:
    """50 frames at 25 fps, then 50 at 50 fps: rendered at 50 fps by time, each frame held as long as it shows."""
    src = tmp_path / "vfr.mp4"
    with av.open(str(src), "w") as out:
        vs = out.add_stream("libx264", rate=50)
        assert isinstance(vs, av.video.stream.VideoStream)
        vs.width, vs.height, vs.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        vs.codec_context.time_base = Fraction(1, 1000)
        vs.codec_context.options = {"preset": "veryfast", "g": "12"}
        t = 0
        for n in range(100):
            frame = av.VideoFrame.from_ndarray(frame_luma(n, *SIZE), format="gray").reformat(format="yuv420p")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(vs.encode(frame))
            t += 40 if n < 50 else 20
        out.mux(vs.encode(None))
    with av.open(str(src)) as cont:
        avg = float(cont.streams.video[0].average_rate or 0)
    # 1.0 s to 2.5 s of the source: frames 25..49 (40 ms each), then 50..99 (20 ms each)
    result = assemble(_edl([(src, avg, round(1.0 * avg), round(2.5 * avg))]), tmp_path / "out.mp4")
    assert result.mode == "reencode" and "variable" in result.reason and result.fps == 50
    got = read_frame_indices(result.path)
    assert abs(len(got) - 75) <= 1
    assert got == [25 + j // 2 if j < 50 else j for j in range(len(got))]


def test_video_only(clip12: Path, tmp_path: Path) -> None:
    result = assemble(_edl([(clip12, FPS, 3, 30)]), tmp_path / "out.mp4", AssembleOptions(audio=False))
    assert result.audio_samples == 0
    with av.open(result.path) as cont:
        assert not cont.streams.audio
    assert read_frame_indices(result.path) == list(range(3, 30))


def test_profiles() -> None:
    assert set(PROFILES) == {"source", "1080p", "720p", "2160p"}  # 2160p: the 4K upscale's finish
    assert get_profile("1080p").size_for(1920, 816) == (1920, 816)
    assert get_profile("1080p").size_for(480, 204) == (1920, 816)
    assert get_profile("720p").size_for(1280, 720) == (1280, 720)
    assert get_profile("720p").size_for(720, 576) == (900, 720)
    assert get_profile("source").size_for(481, 205) == (480, 204)
    with pytest.raises(MediaError) as info:
        get_profile("4k")
    assert info.value.code == "PROFILE_UNKNOWN"


# --------------------------------------------------------------------------- real media


def test_sintel_trailer_cut_decodes_end_to_end(shared_media: Path, tmp_path: Path) -> None:
    src = shared_media / "sintel_trailer_480x204.mp4"
    cuts = [(src, 24.0, 100, 250), (src, 24.0, 610, 640), (src, 24.0, 300, 301), (src, 24.0, 900, 1010)]
    result = assemble(_edl(cuts), tmp_path / "sintel.mp4")
    assert result.mode == "smart" and result.copied_frames > 0
    source = [f.astype(np.int16) for f in decode_gray(src)]
    out = [f.astype(np.int16) for f in decode_gray(result.path)]
    with av.open(result.path) as cont:
        assert len(list(cont.demux(audio=0))) > 0
    expected = [i for _, _, a, b in cuts for i in range(a, b)]
    assert len(out) == len(expected) == result.frames
    # every output frame is its source frame (copied exactly, or re-encoded closely)
    diffs = [float(np.abs(o - source[i]).mean()) for o, i in zip(out, expected, strict=True)]
    assert max(diffs) < 2.5
    assert sum(d == 0 for d in diffs) >= result.copied_frames


@pytest.mark.parametrize(("name", "cuts"), [
    ("autoeditor_example_banana.mp4", [(31, 200), (500, 503), (10, 20)]),   # Main profile, 30 fps, audio
    ("pyscenedetect/counter.mp4", [(3, 9), (15, 16), (20, 30)]),            # one keyframe, 1080p, no audio
    ("pyscenedetect/testvideo.mp4", [(10, 100), (200, 260)]),               # 30000/1001 fps
])
def test_real_h264_sources_smart(shared_media: Path, tmp_path: Path, name: str, cuts: list[tuple[int, int]]) -> None:
    src = shared_media / name
    with av.open(str(src)) as cont:
        rate = float(cont.streams.video[0].average_rate or 0)
    result = assemble(_edl([(src, rate, a, b) for a, b in cuts]), tmp_path / "out.mp4")
    assert result.mode in ("smart", "copy")
    expected = [i for a, b in cuts for i in range(a, b)]
    source = [f.astype(np.int16) for f in decode_gray(src, limit=max(expected) + 1)]
    out = [f.astype(np.int16) for f in decode_gray(result.path)]
    assert len(out) == len(expected)
    diffs = [float(np.abs(o - source[i]).mean()) for o, i in zip(out, expected, strict=True)]
    assert max(diffs) < 2.5
    assert sum(d == 0 for d in diffs) >= result.copied_frames


def test_hevc_without_audio_falls_back(shared_media: Path, tmp_path: Path) -> None:
    src = shared_media / "popeye" / "vob_Title_T00-1.mkv"
    rate = 30000 / 1001
    result = assemble(_edl([(src, rate, 30, 60), (src, rate, 300, 330)]), tmp_path / "popeye.mp4")
    assert result.mode == "reencode" and "hevc" in result.reason
    assert len(decode_gray(result.path)) == 60
    samples, _ = read_audio(result.path)
    assert samples.size > 0 and np.abs(samples).max() < 1e-3


# --------------------------------------------------------------------------- bad input


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(EditListError) as info:
        assemble(_edl_missing(tmp_path / "gone.mp4"), tmp_path / "out.mp4")
    assert info.value.code == "EDL_SOURCE_MISSING"
    assert _files(tmp_path) == []


def _edl_missing(path: Path) -> EditList:
    clip = EdlClip("s0", str(path), 0.0, 1.0, 0, 0.0)
    return EditList((EdlSource("s0", str(path), FPS, 5.0),), (BeatSlot(0, 0.0, 1.0),), (clip,))


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_corrupt_source(clip12: Path, tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "bad.mp4"
    data = clip12.read_bytes()
    bad.write_bytes(os.urandom(50_000) if kind == "garbage" else data[: len(data) // 2])
    with pytest.raises(DecodeError) as info:
        assemble(_edl_missing(bad), tmp_path / "out.mp4")
    assert info.value.code == "DECODE_FAILED"
    assert _files(tmp_path) == ["bad.mp4"]


@pytest.mark.parametrize(("first", "end", "code"), [(140, 170, "EDL_TIME_RANGE"), (30, 30, "EDL_ZERO_LENGTH")])
def test_bad_ranges(clip12: Path, tmp_path: Path, first: int, end: int, code: str) -> None:
    edl = _edl([(clip12, FPS, 10, 20)])
    clip = EdlClip("s0", str(clip12), first / FPS, end / FPS, 0, 0.0)
    bad = EditList((EdlSource("s0", str(clip12), FPS, 20.0),), edl.slots, (clip,))  # stale duration in the EDL
    with pytest.raises(EditListError) as info:
        assemble(bad, tmp_path / "out.mp4")
    assert info.value.code == code
    assert _files(tmp_path) == []


def test_empty_timeline(clip12: Path, tmp_path: Path) -> None:
    edl = EditList((EdlSource("s0", str(clip12), FPS, 6.0),), (), ())
    with pytest.raises(EditListError) as info:
        assemble(edl, tmp_path / "out.mp4")
    assert info.value.code == "EDL_EMPTY"


@pytest.mark.parametrize("where", ["no-folder", "is-folder", "under-file", "bad-suffix"])
def test_unwritable_output(clip12: Path, tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir.mp4").mkdir()
    out = {"no-folder": tmp_path / "nope" / "out.mp4", "is-folder": tmp_path / "dir.mp4",
           "under-file": tmp_path / "file" / "out.mp4", "bad-suffix": tmp_path / "out.txt"}[where]
    with pytest.raises(OutputError) as info:
        assemble(_edl([(clip12, FPS, 0, 10)]), out)
    assert info.value.code == "OUTPUT_FAILED"
    assert _files(tmp_path) == ["dir.mp4", "file"]


def test_output_over_its_source(tmp_path: Path) -> None:
    src = make_indexed_clip(tmp_path / "src.mp4", 24, FPS, SIZE, 12)
    before = src.read_bytes()
    with pytest.raises(OutputError):
        assemble(_edl([(src, FPS, 0, 10)]), src)
    assert src.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_folder(clip12: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(OutputError):
        assemble(_edl([(clip12, FPS, 0, 10)]), folder / "out.mp4")


@pytest.mark.parametrize("workers", [0, 2])
def test_cancel_leaves_nothing(clip12: Path, tmp_path: Path, workers: int) -> None:
    calls = [0]

    def cancel() -> bool:
        calls[0] += 1
        return calls[0] > 2

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CancelledError):
        assemble(_edl([(clip12, FPS, 3, 40), (clip12, FPS, 50, 90), (clip12, FPS, 100, 140)]), out / "o.mp4",
                 AssembleOptions(edge_workers=workers), cancel=cancel)
    assert _files(out) == []


_FULL_DISK_SCRIPT = """
import json, resource, signal, sys
from media.assemble import assemble
from media.edl import EditList
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
edl = EditList.from_json(json.loads(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
try:
    assemble(edl, sys.argv[2])
    print(json.dumps({"code": None}))
except Exception as ex:
    print(json.dumps({"code": getattr(ex, "code", type(ex).__name__), "message": str(ex)}))
"""


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_indexed_clip(tmp_path_factory.mktemp("big") / "big.mp4", 120, FPS, (320, 180), 12, crf=10)


def test_disk_full_file_size_limit(big_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "o.mp4"
    out.parent.mkdir()
    edl = _edl([(big_source, FPS, 5, 115)])
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK_SCRIPT, json.dumps(edl.to_json()), str(out)],
                          capture_output=True, text=True, cwd=root, timeout=120, check=True)
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["code"] == "OUTPUT_FAILED", answer
    assert _files(out.parent) == []


def test_disk_full_tmpfs(big_source: Path, tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root); the file-size-limit test covers disk full")
    try:
        (mnt / "filler").write_bytes(b"\0" * (1024 * 1024 - 64 * 1024))
        with pytest.raises(OutputError) as info:
            assemble(_edl([(big_source, FPS, 5, 115)]), mnt / "o.mp4")
        assert "disk full" in str(info.value)
        assert _files(mnt) == ["filler"]
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
