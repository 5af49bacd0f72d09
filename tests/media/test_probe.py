"""media.probe on real media (../shared/media) and on generated good and bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from media.errors import (
    CorruptMediaError,
    DimensionsError,
    EmptyFileError,
    MediaError,
    NotMediaError,
    NoVideoStreamError,
    UnsupportedMediaError,
    ZeroDurationError,
)
from media.probe import MediaInfo, MissingFileError, probe
from tests.media.gen import checker, make_audio, make_clip, noise, set_mp4_rotation, truncate_before_moov

MEDIA_SUFFIXES = {".mp4", ".mkv", ".flac", ".wav"}


def _manifest(root: Path) -> list[dict[str, Any]]:
    return [e for e in json.loads((root / "MANIFEST.json").read_text()) if e.get("streams")]


def test_every_shared_media_file_probes(shared_media: Path) -> None:
    files = sorted(p for p in shared_media.rglob("*") if p.suffix in MEDIA_SUFFIXES)
    assert len(files) >= 10
    for f in files:
        info = probe(f)
        assert info.duration > 0 and info.size_bytes == f.stat().st_size
        assert info.has_video or info.has_audio


def test_shared_media_matches_manifest(shared_media: Path) -> None:
    for entry in _manifest(shared_media):
        info = probe(shared_media / entry["path"])
        assert info.duration == pytest.approx(entry["duration_s"], abs=0.05), entry["path"]
        video = [s for s in entry["streams"] if s["type"] == "video"]
        audio = [s for s in entry["streams"] if s["type"] == "audio"]
        assert info.has_video == bool(video) and info.has_audio == bool(audio), entry["path"]
        if video:
            v = info.video
            assert v is not None
            assert (v.codec, v.width, v.height) == (video[0]["codec"], video[0]["w"], video[0]["h"])
            assert v.fps == pytest.approx(video[0]["fps"], rel=1e-6)
            if video[0].get("frames"):  # 0 in the manifest: the container has no frame count
                assert v.frame_count == video[0]["frames"]
        if audio:
            a = info.audio
            assert a is not None
            assert (a.codec, a.sample_rate, a.channels) == (audio[0]["codec"], audio[0]["sr"], audio[0]["ch"])


def test_popeye_hevc_mkv_without_audio(shared_media: Path) -> None:
    for f in sorted((shared_media / "popeye").glob("*.mkv")):
        info = probe(f, require_video=True)
        assert info.format_name.startswith("matroska")
        assert info.video is not None and info.video.codec == "hevc" and info.video.width == 720
        assert info.video.duration == pytest.approx(60.0, abs=0.1) and not info.video.frame_count_exact
        assert info.video.fps == pytest.approx(30000 / 1001)
        assert not info.video.vfr and info.video.rotation == 0
        assert not info.has_audio and info.audio_streams == ()
        assert [(s.codec, s.language) for s in info.subtitles] == [("dvdsub", "eng")]


def test_languages_and_layouts(shared_media: Path) -> None:
    banana = probe(shared_media / "autoeditor_example_banana.mp4")
    assert banana.audio is not None and banana.audio.language == "eng" and banana.audio.channel_layout == "stereo"
    assert banana.video is not None and banana.video.language == "eng" and banana.video.profile == "Main"
    assert banana.video.r_frame_rate == "30/1" and banana.video.time_base == "1/30000"


def test_audio_only_flac(shared_media: Path) -> None:
    info = probe(shared_media / "jfk.flac")
    assert not info.has_video and info.audio is not None and info.audio.codec == "flac"
    with pytest.raises(NoVideoStreamError) as ex:
        probe(shared_media / "jfk.flac", require_video=True)
    assert ex.value.code == "NO_VIDEO_STREAM"


@pytest.mark.parametrize("name", ["popeye/popeye_p1.eng.srt", "sintel_full_film_en.vtt", "README.md"])
def test_text_files_are_not_media(shared_media: Path, name: str) -> None:
    with pytest.raises(NotMediaError) as ex:
        probe(shared_media / name)
    assert ex.value.code == "NOT_MEDIA"


def test_generated_clip_facts(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "a.mov", [((255, 0, 0), 12), (checker(), 12)], fps=24, size=(176, 96), audio=True)
    info = probe(path)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height, info.video.fps, info.video.frame_count) == (176, 96, 24.0, 24)
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p" and not info.video.vfr
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)
    assert MediaInfo.from_json(json.loads(json.dumps(info.to_json()))) == info
    assert info.to_json()["has_video"] and info.to_json()["has_audio"]


@pytest.mark.parametrize(("degrees", "display"), [(0, (160, 96)), (90, (96, 160)), (180, (160, 96)), (270, (96, 160))])
def test_rotated_phone_video(tmp_path: Path, degrees: int, display: tuple[int, int]) -> None:
    path = make_clip(tmp_path / "phone.mp4", [(checker(), 6)], size=(160, 96))
    set_mp4_rotation(path, degrees)
    v = probe(path).video
    assert v is not None
    assert v.rotation == degrees
    assert (v.width, v.height) == (160, 96) and (v.display_width, v.display_height) == display


def test_variable_frame_rate(tmp_path: Path) -> None:
    times = [i / 30 for i in range(30)] + [1.0 + i / 10 for i in range(10)]
    vfr = probe(make_clip(tmp_path / "vfr.mkv", [(noise(), 40)], times=times)).video
    cfr = probe(make_clip(tmp_path / "cfr.mkv", [(noise(), 40)], fps=30)).video
    assert vfr is not None and cfr is not None
    assert vfr.vfr and not cfr.vfr


def test_8k_uhd_is_accepted(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "uhd.mp4", [((0, 0, 0), 1)], size=(7680, 4320)))
    assert info.video is not None and (info.video.width, info.video.height) == (7680, 4320)


def test_absurd_dimensions_refused(tmp_path: Path) -> None:
    with pytest.raises(DimensionsError) as ex:
        probe(make_clip(tmp_path / "wide.mp4", [((0, 0, 0), 1)], size=(16384, 16)))
    assert ex.value.code == "BAD_DIMENSIONS"


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(EmptyFileError) as ex:
        probe(tmp_path / "empty.mp4")
    assert ex.value.code == "EMPTY_FILE"


def test_text_file_named_mp4(tmp_path: Path) -> None:
    (tmp_path / "movie.mp4").write_text("This is not a movie.\n" * 50)
    with pytest.raises(NotMediaError):
        probe(tmp_path / "movie.mp4")


def test_random_bytes_named_mkv(tmp_path: Path) -> None:
    (tmp_path / "movie.mkv").write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(NotMediaError):
        probe(tmp_path / "movie.mkv")


def test_truncated_mp4_without_moov(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "full.mp4", [(checker(), 24)], audio=True)
    cut = truncate_before_moov(src, tmp_path / "cut.mp4")
    with pytest.raises(CorruptMediaError) as ex:
        probe(cut)
    assert ex.value.code == "CORRUPT_MEDIA" and isinstance(ex.value.__cause__, Exception)


def test_unknown_codec_is_unsupported(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "ok.mkv", [(checker(), 6)])
    data = src.read_bytes()
    assert b"V_MPEG4/ISO/AVC" in data
    (tmp_path / "odd.mkv").write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_ZZZZZ/ISO/AVC"))
    with pytest.raises(UnsupportedMediaError) as ex:
        probe(tmp_path / "odd.mkv")
    assert ex.value.code == "UNSUPPORTED_MEDIA"


def test_still_image_has_zero_duration(tmp_path: Path) -> None:
    img = tmp_path / "frame.png"
    cv2.imwrite(str(img), np.full((32, 32, 3), 128, np.uint8))
    renamed = img.rename(tmp_path / "frame.mp4")
    with pytest.raises(ZeroDurationError) as ex:
        probe(renamed)
    assert ex.value.code == "ZERO_DURATION"


def test_video_stream_without_frames(tmp_path: Path) -> None:
    with pytest.raises(ZeroDurationError):
        probe(make_clip(tmp_path / "none.mp4", []))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError) as ex:
        probe(tmp_path / "nope.mp4")
    assert ex.value.code == "FILE_NOT_FOUND" and isinstance(ex.value, MediaError)
    with pytest.raises(NotMediaError):
        probe(tmp_path)


def test_audio_only_generated(tmp_path: Path) -> None:
    info = probe(make_audio(tmp_path / "tone.flac", 1.0))
    assert info.audio is not None and not info.has_video and info.duration == pytest.approx(1.0, abs=0.05)


def test_unknown_audio_codec_beside_video_leaves_the_video_usable(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "av.mkv", [(checker(), 12)], audio=True).read_bytes()
    assert data.count(b"A_AAC") == 1
    (tmp_path / "odd_audio.mkv").write_bytes(data.replace(b"A_AAC", b"A_ZZZ"))
    info = probe(tmp_path / "odd_audio.mkv", require_video=True)
    assert info.has_video and not info.has_audio
    assert [a.codec for a in info.audio_streams] == [None]


def test_unknown_audio_codec_alone_is_unsupported(tmp_path: Path) -> None:
    data = make_audio(tmp_path / "a.mka", 0.5, codec="aac").read_bytes()
    (tmp_path / "odd.mka").write_bytes(data.replace(b"A_AAC", b"A_ZZZ"))
    with pytest.raises(UnsupportedMediaError):
        probe(tmp_path / "odd.mka")
