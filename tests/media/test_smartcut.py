"""Smart render: exact cut positions for every kind of cut, GOP copying, in-band parameter sets."""

from __future__ import annotations

import random
from pathlib import Path

import av
import pytest

from media.assemble import AssembleOptions, assemble
from media.edl import BeatSlot, EditList, EdlClip, EdlSource, retime
from media.smartcut import AvcConfig, smart_profile_ok
from tests.media.framegen import make_indexed_clip, read_audio_tones, read_frame_indices

FPS = 25
FRAMES = 150
SIZE = (192, 108)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, int], Path]:
    """Indexed clips per (GOP, B-frames)."""
    folder = tmp_path_factory.mktemp("smart")
    return {(gop, bf): make_indexed_clip(folder / f"g{gop}_b{bf}.mp4", FRAMES, FPS, SIZE, gop, bframes=bf)
            for gop in (12, 30) for bf in (0, 3)}


def _edl(path: Path, cuts: list[tuple[int, int]]) -> EditList:
    clips = retime(EdlClip("s0", str(path), a / FPS, b / FPS, 0, 0.0) for a, b in cuts)
    total = sum(c.duration for c in clips)
    return EditList((EdlSource("s0", str(path), FPS, FRAMES / FPS),), (BeatSlot(0, 0.0, total),), clips)


def _expected(cuts: list[tuple[int, int]]) -> list[int]:
    return [i for a, b in cuts for i in range(a, b)]


def _cases(gop: int) -> dict[str, tuple[int, int]]:
    return {
        "on-keyframes": (gop, 3 * gop),
        "mid-gop": (gop // 2 + 1, 2 * gop + 5),
        "before-keyframe": (gop - 1, 3 * gop - 1),
        "single-frame": (gop + 3, gop + 4),
        "single-keyframe": (2 * gop, 2 * gop + 1),
        "within-one-gop": (gop + 2, 2 * gop - 2),
        "whole-file": (0, FRAMES),
    }


@pytest.mark.parametrize("gop", [12, 30])
@pytest.mark.parametrize("bframes", [0, 3])
@pytest.mark.parametrize("case", list(_cases(12)))
def test_single_cut_exact(sources: dict[tuple[int, int], Path], tmp_path: Path, gop: int, bframes: int,
                          case: str) -> None:
    cut = _cases(gop)[case]
    result = assemble(_edl(sources[gop, bframes], [cut]), tmp_path / "out.mp4", AssembleOptions(mode="smart"))
    assert read_frame_indices(result.path) == _expected([cut])
    assert result.frames == cut[1] - cut[0]
    assert result.copied_frames + result.reencoded_frames == result.frames
    if case in ("on-keyframes", "whole-file"):
        assert result.mode == "copy" and result.reencoded_frames == 0
    if case == "mid-gop":
        # the head (to the next keyframe) is re-encoded; the GOP after it is copied
        assert result.reencoded_frames >= gop - cut[0] % gop
        assert result.copied_frames >= gop
    if case == "before-keyframe" and bframes == 0:
        # one frame re-encoded at the head; without B-frames the tail prefix is copied as is
        assert result.reencoded_frames == 1


@pytest.mark.parametrize("bframes", [0, 3])
@pytest.mark.parametrize("workers", [0, 2])
def test_many_joints_no_gap_or_duplicate(sources: dict[tuple[int, int], Path], tmp_path: Path, bframes: int,
                                         workers: int) -> None:
    rng = random.Random(7 + bframes)
    cuts = []
    for _ in range(12):
        a = rng.randrange(0, FRAMES - 1)
        cuts.append((a, min(FRAMES, a + rng.randrange(1, 40))))
    result = assemble(_edl(sources[12, bframes], cuts), tmp_path / "out.mp4", AssembleOptions(edge_workers=workers))
    assert result.mode == "smart"
    got = read_frame_indices(result.path)
    assert got == _expected(cuts)
    tones = read_audio_tones(result.path, FPS)
    assert abs(len(tones) - len(got)) <= 1
    matches = sum(1 for g, t in zip(got, tones, strict=False) if t == g % 8)
    assert matches >= 0.97 * len(got)


def test_output_keeps_source_parameters(sources: dict[tuple[int, int], Path], tmp_path: Path) -> None:
    src = sources[12, 3]
    result = assemble(_edl(src, [(5, 40), (70, 100)]), tmp_path / "out.mp4")
    with av.open(str(src)) as a, av.open(result.path) as b:
        sa, sb = a.streams.video[0], b.streams.video[0]
        assert sb.codec_context.extradata == sa.codec_context.extradata
        assert (sb.codec_context.width, sb.codec_context.height) == SIZE
        assert sb.average_rate == FPS
        assert sb.frames == 65
        # keyframes survive as sync samples: the copied GOPs' IDRs and each re-encoded edge's IDR
        keys = [p.pts for p in b.demux(sb) if p.is_keyframe and p.pts is not None]
        assert len(keys) >= 3


def test_avcc_parsing_and_annexb_conversion(sources: dict[tuple[int, int], Path]) -> None:
    with av.open(str(sources[12, 0])) as cont:
        avc = AvcConfig.parse(cont.streams.video[0].codec_context.extradata)
    assert avc is not None
    assert avc.length_size == 4 and avc.profile_idc == 100
    assert [h[0] & 0x1F for h in avc.headers] == [7, 8]  # one SPS, one PPS
    annexb = b"\x00\x00\x00\x01\x67\xaa\xbb\x00\x00\x01\x68\xcc\x00\x00\x00\x01\x65\x01\x02"
    assert avc.from_annexb(annexb) == (b"\x00\x00\x00\x03\x67\xaa\xbb" + b"\x00\x00\x00\x02\x68\xcc"
                                       + b"\x00\x00\x00\x03\x65\x01\x02")
    assert avc.nal_types(avc.from_annexb(annexb)) == [7, 8, 5]
    assert AvcConfig.parse(b"\x00\x00\x00\x01\x67") is None
    assert smart_profile_ok(avc, "yuv420p") is None
    assert smart_profile_ok(avc, "yuv422p") is not None
    assert smart_profile_ok(None, "yuv420p") is not None


def test_two_sources_with_different_parameter_sets(sources: dict[tuple[int, int], Path], tmp_path: Path) -> None:
    other = make_indexed_clip(tmp_path / "other.mp4", 60, FPS, SIZE, 20, bframes=0, start_index=700,
                              preset="ultrafast", crf=30)
    a = sources[12, 3]
    cuts = [("s0", a, 12, 36), ("s1", other, 20, 40), ("s0", a, 5, 30), ("s1", other, 0, 20)]
    clips = retime(EdlClip(sid, str(p), x / FPS, y / FPS, 0, 0.0) for sid, p, x, y in cuts)
    edl = EditList((EdlSource("s0", str(a), FPS, FRAMES / FPS), EdlSource("s1", str(other), FPS, 60 / FPS)),
                   (BeatSlot(0, 0.0, 89 / FPS),), clips)
    result = assemble(edl, tmp_path / "out.mp4", AssembleOptions(mode="smart"))
    # only the head of (5, 30) up to its keyframe, and at most one B-frame group at its tail, is re-encoded
    assert 7 <= result.reencoded_frames <= 7 + 3
    assert read_frame_indices(result.path) == [*range(12, 36), *range(720, 740), *range(5, 30), *range(700, 720)]
