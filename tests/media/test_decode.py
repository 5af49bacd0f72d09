"""media.decode: one pass, frame-exact indices and times, fan-out, progress, cancel, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media.decode import DecodeOptions, decode_frames
from media.errors import CancelledError, DecodeError, NoVideoStreamError
from tests.media.gen import bars, checker, make_audio, make_clip, noise


class Recorder:
    """Keeps what it is given (indices, times, shapes, mean of each frame)."""

    def __init__(self) -> None:
        self.indices: list[int] = []
        self.times: list[float] = []
        self.shapes: set[tuple[int, ...]] = set()
        self.means: list[float] = []
        self.finished = 0

    def consume(self, frame_index: int, time: float, image: np.ndarray) -> None:
        self.indices.append(frame_index)
        self.times.append(time)
        self.shapes.add(image.shape)
        self.means.append(float(image.mean()))

    def finish(self) -> None:
        self.finished += 1


class Boom(Recorder):
    def consume(self, frame_index: int, time: float, image: np.ndarray) -> None:
        if frame_index == 5:
            raise RuntimeError("consumer failed")
        super().consume(frame_index, time, image)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("decode")
    return make_clip(root / "clip.mp4", [((250, 250, 250), 10), ((5, 5, 5), 10), (checker(), 20), (bars, 8)],
                     fps=24, size=(176, 96), gop=12, audio=True)


@pytest.mark.parametrize("queue_size", [0, 1, 16])
def test_every_frame_in_order_with_exact_times(clip: Path, queue_size: int) -> None:
    a, b = Recorder(), Recorder()
    result = decode_frames(clip, [a, b], DecodeOptions(width=64, queue_size=queue_size))
    assert result.frames == 48 and a.indices == list(range(48)) == b.indices
    assert a.times == pytest.approx([k / 24 for k in range(48)], abs=1e-9)
    assert a.finished == b.finished == 1
    assert result.duration == pytest.approx(2.0)
    assert (result.width, result.height, result.source_width, result.source_height) == (64, 34, 176, 96)
    assert a.shapes == {(34, 64, 3)}
    # White then black frames: the pixels reached the consumer in order.
    assert min(a.means[:10]) > 200 and max(a.means[10:20]) < 30


@pytest.mark.parametrize(("fmt", "shape"), [("gray", (52, 96)), ("rgb24", (52, 96, 3)), ("bgr24", (52, 96, 3))])
def test_pixel_formats(clip: Path, fmt: str, shape: tuple[int, ...]) -> None:
    rec = Recorder()
    decode_frames(clip, [rec], DecodeOptions(width=96, pixel_format=fmt))
    assert rec.shapes == {shape}


def test_small_source_is_not_upscaled(tmp_path: Path) -> None:
    rec = Recorder()
    path = make_clip(tmp_path / "tiny.mp4", [(checker(), 3)], size=(64, 48))
    result = decode_frames(path, [rec], DecodeOptions(width=320))
    assert (result.width, result.height) == (64, 48) and rec.shapes == {(48, 64, 3)}


def test_variable_frame_rate_times_come_from_pts(tmp_path: Path) -> None:
    times = [i / 30 for i in range(30)] + [1.0 + i / 10 for i in range(10)]
    rec = Recorder()
    decode_frames(make_clip(tmp_path / "vfr.mkv", [(noise(), 40)], times=times), [rec])
    assert rec.indices == list(range(40))
    assert rec.times == pytest.approx([round(t * 1000) / 1000 for t in times], abs=1e-9)


def test_progress_is_monotonic_and_reaches_one(clip: Path) -> None:
    seen: list[float] = []
    decode_frames(clip, [Recorder()], progress=seen.append)
    assert seen[-1] == 1.0 and len(seen) >= 3
    assert all(0.0 <= x <= 1.0 for x in seen) and seen == sorted(seen)


@pytest.mark.parametrize("queue_size", [0, 8])
def test_cancel_raises_and_stops_early(clip: Path, queue_size: int) -> None:
    rec = Recorder()
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(CancelledError) as ex:
        decode_frames(clip, [rec], DecodeOptions(queue_size=queue_size), cancel=cancel)
    assert ex.value.code == "CANCELLED"
    assert len(rec.indices) < 48 and rec.finished == 0


@pytest.mark.parametrize("queue_size", [0, 2])
def test_consumer_error_propagates(clip: Path, queue_size: int) -> None:
    boom = Boom()
    with pytest.raises(RuntimeError, match="consumer failed"):
        decode_frames(clip, [boom], DecodeOptions(queue_size=queue_size))
    assert boom.finished == 0


def test_audio_only_has_no_frames_to_decode(tmp_path: Path) -> None:
    with pytest.raises(NoVideoStreamError):
        decode_frames(make_audio(tmp_path / "a.flac", 0.5), [Recorder()])


@pytest.mark.parametrize("kwargs", [{"width": 8}, {"pixel_format": "yuv420p"}, {"interpolation": "nearest"},
                                    {"threads": -1}, {"queue_size": -1}])
def test_options_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DecodeOptions(**kwargs)  # type: ignore[arg-type]


def _damage_first_gop(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    at = data.find(b"mdat") + 4
    data[at:at + 3000] = np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def test_damaged_packets_are_skipped_up_to_a_limit(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "ok.mp4", [(checker(), 48)], fps=24, gop=12)
    damaged = _damage_first_gop(src, tmp_path / "damaged.mp4")
    rec = Recorder()
    result = decode_frames(damaged, [rec])
    assert 0 < result.frames < 48 and rec.indices == list(range(result.frames))
    assert rec.times == sorted(rec.times) and rec.times[0] > 0  # the first GOP is gone, its times too
    with pytest.raises(DecodeError) as ex:
        decode_frames(damaged, [Recorder()], DecodeOptions(max_bad_packets=0))
    assert ex.value.code == "DECODE_FAILED"


def test_nothing_decodable_is_a_decode_error(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "one_gop.mp4", [(checker(), 12)], fps=24)
    with pytest.raises(DecodeError):
        decode_frames(_damage_first_gop(src, tmp_path / "damaged.mp4"), [Recorder()])
