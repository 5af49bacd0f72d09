"""The mix: BS.1770 loudness, true peak, ducking depth, loudness target on real speech, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media.audio import (
    LoudnessMeter,
    MixOptions,
    NarrationPlacement,
    duck_envelope,
    integrated_loudness,
    load_audio,
    mix,
    true_peak_dbtp,
)
from media.errors import NoAudioStreamError
from media.tts import Narration, write_wav
from media.types import Word

RATE = 48000
SHARED = Path(__file__).resolve().parents[3] / "shared" / "media"


def _sine(freq: float, seconds: float, amp: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(("amp", "stereo", "expected"), [
    (1.0, False, -3.01),      # BS.1770: 997 Hz at 0 dBFS in one channel reads -3.01 LKFS
    (0.5, False, -9.03),
    (1.0, True, 0.0),         # the same tone in both channels adds 3 dB
    (0.1, True, -20.0),
])
def test_loudness_of_reference_tones(amp: float, stereo: bool, expected: float) -> None:
    tone = _sine(997, 5.0, amp)
    x = np.stack([tone, tone], axis=1) if stereo else tone
    assert integrated_loudness(x, RATE) == pytest.approx(expected, abs=0.05)


def test_loudness_meter_streams_like_one_block() -> None:
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((RATE * 7, 2)) * 0.05).astype(np.float32)
    meter = LoudnessMeter(RATE, 2)
    for pos in range(0, len(x), 12345):
        meter.add(x[pos:pos + 12345])
    assert meter.integrated() == pytest.approx(integrated_loudness(x, RATE), abs=0.01)


def test_relative_gate_ignores_silence() -> None:
    tone = _sine(997, 20.0, 0.1)
    padded = np.concatenate([tone, np.zeros(RATE * 20, np.float32)])
    # without gating the silence would pull it down by 3 dB; only the blocks straddling the end count
    assert integrated_loudness(padded, RATE) == pytest.approx(integrated_loudness(tone, RATE), abs=0.1)


def test_true_peak_sees_intersample_peaks() -> None:
    # fs/4 sine with 45 degree phase: samples hit 0.707 of the real peak
    n = np.arange(4800)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4)
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x, RATE) == pytest.approx(0.0, abs=0.3)


def test_duck_envelope_shape() -> None:
    opts = MixOptions(duck_db=-18.0, attack=0.2, release=0.5)
    t = np.array([0.0, 0.75, 0.9, 1.0, 2.0, 3.0, 3.25, 3.6, 5.0])
    g = 20 * np.log10(duck_envelope(t, [(1.0, 3.0)], [], opts))
    assert g[0] == pytest.approx(0.0) and g[1] == pytest.approx(0.0)
    assert g[2] == pytest.approx(-9.0)               # half way down before the narration starts
    assert g[3] == pytest.approx(-18.0) and g[4] == pytest.approx(-18.0)
    assert g[6] == pytest.approx(-9.0)               # half way through the release
    assert g[7] == pytest.approx(0.0) and g[8] == pytest.approx(0.0)
    kept = 20 * np.log10(duck_envelope(t, [(1.0, 3.0)], [(1.9, 2.1)], opts))
    assert kept[4] == pytest.approx(0.0)             # "let the scene play" keeps the source at full level


def _band_level(x: np.ndarray, freq: float, rate: int = RATE) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = round(freq * len(x) / rate)
    return float(20 * np.log10(spec[k - 2:k + 3].max()))


@pytest.mark.parametrize("depth", [-18.0, -10.0])
def test_mix_ducks_source_by_depth_and_hits_target(tmp_path: Path, depth: float) -> None:
    source = tmp_path / "source.wav"
    tone = _sine(440, 12.0, 0.3)
    write_wav(source, np.stack([tone, tone], axis=1), RATE)
    voice = tmp_path / "voice.wav"
    write_wav(voice, _sine(1000, 4.0, 0.3, 24000), 24000)
    narration = Narration(voice, 4.0, (Word(0.0, 2.0, "hello"), Word(2.0, 4.0, "there")))
    out = tmp_path / "mix.wav"
    result = mix(source, [NarrationPlacement(4.0, narration)], out, duration=12.0,
                 options=MixOptions(duck_db=depth))
    data, _ = load_audio(out, RATE, 1)
    assert len(data) == 12 * RATE
    left = data[:, 0]
    outside = _band_level(left[int(0.5 * RATE):int(3.0 * RATE)], 440)
    under = _band_level(left[int(5.0 * RATE):int(7.5 * RATE)], 440)
    assert under - outside == pytest.approx(depth, abs=1.0)
    measured = integrated_loudness(data, RATE)
    assert measured == pytest.approx(-14.0, abs=1.0)
    assert result.integrated_lufs == pytest.approx(measured, abs=0.3)
    assert true_peak_dbtp(data, RATE) <= -1.0 + 0.05


@pytest.mark.skipif(not (SHARED / "jfk.flac").exists(), reason="../shared/media is absent")
@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_mix_real_speech_meets_loudness_and_peak(tmp_path: Path, target: float) -> None:
    # Real speech (high crest factor) over the Sintel trailer's score exercises the limiter.
    speech = SHARED / "jfk.flac"
    words = (Word(0.3, 10.5, "and so my fellow americans"),)
    placed = [NarrationPlacement(2.0, Narration(speech, 11.0, words))]
    out = tmp_path / "mix.wav"
    result = mix(SHARED / "sintel_trailer_480x204.mp4", placed, out, duration=20.0,
                 options=MixOptions(target_lufs=target))
    data, _ = load_audio(out, RATE, 2)
    assert integrated_loudness(data, RATE) == pytest.approx(target, abs=1.0)
    assert true_peak_dbtp(data, RATE) <= -1.0 + 0.05
    assert result.true_peak_dbtp <= -1.0


def test_mix_without_source_audio_is_narration_only(tmp_path: Path) -> None:
    voice = tmp_path / "voice.wav"
    write_wav(voice, _sine(500, 2.0, 0.5, 22050), 22050)
    result = mix(None, [NarrationPlacement(1.0, Narration(voice, 2.0, ()))], tmp_path / "m.wav", duration=4.0)
    data, _ = load_audio(result.path, RATE, 2)
    assert np.abs(data[: RATE // 2]).max() < 1e-3
    assert result.integrated_lufs == pytest.approx(-14.0, abs=1.0)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="duck_db"):
        MixOptions(duck_db=6.0)
    with pytest.raises(ValueError, match="target_lufs"):
        MixOptions(target_lufs=0.0)


def test_load_audio_rejects_file_without_audio(tmp_path: Path) -> None:
    import av

    path = tmp_path / "silent.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height = 64, 64
        for i in range(5):
            f = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 40, np.uint8), format="rgb24")
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    with pytest.raises(NoAudioStreamError):
        load_audio(path)


@pytest.fixture
def small_file_limit():  # type: ignore[no-untyped-def]
    """Files may grow to 2 MB (a full disk, simulated with RLIMIT_FSIZE; SIGXFSZ ignored so writes fail)."""
    import resource
    import signal

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


def test_disk_full_is_output_error_and_leaves_nothing(tmp_path: Path, small_file_limit: None) -> None:
    from media.errors import OutputError

    voice = tmp_path / "voice.wav"
    write_wav(voice, _sine(500, 1.0, 0.5, 22050), 22050)
    with pytest.raises(OutputError):
        mix(None, [NarrationPlacement(0.0, Narration(voice, 1.0, ()))], tmp_path / "m.wav", duration=60.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice.wav"]
