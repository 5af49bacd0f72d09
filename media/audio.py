"""The recap's audio mix: source audio ducked under the narration, music bed, loudness to a target.

Loudness is ITU-R BS.1770-4 (K-weighting, 400 ms blocks, absolute and relative gates), true peak by
4x oversampling; the mix is built in a disk-backed buffer, chunk by chunk, so long recaps stay small in memory::

    placed = [NarrationPlacement(slot.start, beat.narration) for slot, beat in zip(slots, beats)]
    result = mix(Path("cut.mp4"), placed, Path("mix.wav"), duration=180.0)
    print(result.integrated_lufs, result.true_peak_dbtp)
"""

from __future__ import annotations

import os
import tempfile
import wave
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin, sosfilt

from media.errors import CancelledError, DecodeError, NoAudioStreamError, OutputError
from media.tts import Narration
from media.types import JSON, CancelFn, ProgressFn, never_cancel

__all__ = [
    "LoudnessMeter", "MixOptions", "MixResult", "NarrationPlacement", "duck_envelope", "integrated_loudness",
    "iter_audio", "load_audio", "mix", "true_peak_dbtp",
]

_CHUNK = 48000 * 10  # samples per processing chunk (10 s at 48 kHz)


@dataclass(frozen=True, slots=True)
class MixOptions:
    """Mix settings; levels in dB, times in seconds."""

    duck_db: float = -18.0
    attack: float = 0.15
    release: float = 0.4
    narration_db: float = 0.0
    music_db: float = -22.0
    target_lufs: float = -14.0
    true_peak_db: float = -1.0
    sample_rate: int = 48000

    def __post_init__(self) -> None:
        if not -60.0 <= self.duck_db <= 0.0:
            raise ValueError("duck_db must be in [-60, 0]")
        if not (0.0 <= self.attack <= 5.0 and 0.0 <= self.release <= 5.0):
            raise ValueError("attack and release must be in [0, 5] s")
        if not -40.0 <= self.target_lufs <= -5.0:
            raise ValueError("target_lufs must be in [-40, -5]")
        if not -10.0 <= self.true_peak_db <= 0.0:
            raise ValueError("true_peak_db must be in [-10, 0]")
        if self.sample_rate not in (44100, 48000):
            raise ValueError("sample_rate must be 44100 or 48000")


@dataclass(frozen=True, slots=True)
class NarrationPlacement:
    """A narration placed at ``start`` seconds on the output timeline."""

    start: float
    narration: Narration


@dataclass(frozen=True, slots=True)
class MixResult:
    path: Path
    integrated_lufs: float
    true_peak_dbtp: float
    duration: float
    gain_db: float

    def to_json(self) -> JSON:
        out = asdict(self)
        out["path"] = str(self.path)
        return out

    @classmethod
    def from_json(cls, data: JSON) -> MixResult:
        return cls(Path(data["path"]), float(data["integrated_lufs"]), float(data["true_peak_dbtp"]),
                   float(data["duration"]), float(data["gain_db"]))


def iter_audio(path: Path, rate: int = 48000, channels: int = 2) -> Iterator[np.ndarray]:
    """Decode the first audio stream as float32 blocks of shape (n, channels) at ``rate``.

    Raises:
        NoAudioStreamError: the file has no audio stream. DecodeError: it cannot be decoded.
    """
    layout = "mono" if channels == 1 else "stereo"
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as ex:
        raise DecodeError(f"cannot open {path.name}") from ex
    with container:
        if not container.streams.audio:
            raise NoAudioStreamError(f"{path.name} has no audio stream")
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        try:
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1, channels)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, channels)
        except av.FFmpegError as ex:
            raise DecodeError(f"cannot decode the audio of {path.name}") from ex


def load_audio(path: Path, rate: int = 48000, channels: int = 2) -> tuple[np.ndarray, int]:
    """The whole first audio stream as float32 (n, channels) at ``rate`` (for short files)."""
    blocks = list(iter_audio(path, rate, channels))
    data = np.concatenate(blocks) if blocks else np.zeros((0, channels), np.float32)
    return data.astype(np.float32, copy=False), rate


def _k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """BS.1770 K-weighting (high shelf + high pass) designed for ``rate`` (libebur128's formulas)."""
    k = np.tan(np.pi * 1681.974450955533 / rate)
    vh, q = 10 ** (3.999843853973347 / 20), 0.7071752369554196
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]),
             np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    k = np.tan(np.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    highpass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    return shelf, highpass


class LoudnessMeter:
    """Streaming BS.1770-4 integrated loudness: feed (n, channels) blocks with ``add``, read ``integrated()``."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate, self.channels = rate, channels
        (b1, a1), (b2, a2) = _k_weighting(rate)
        self._sos = np.array([np.concatenate([b1, a1]), np.concatenate([b2, a2])])
        self._state = np.zeros((2, 2, channels))
        self._step = rate // 10  # 100 ms sub-blocks; a gating block is 4 of them (400 ms, 75 % overlap)
        self._pending = np.zeros((0, channels))
        self._energies: list[float] = []

    def add(self, block: np.ndarray) -> None:
        x = np.asarray(block, dtype=np.float64).reshape(-1, self.channels)
        x, self._state = sosfilt(self._sos, x, axis=0, zi=self._state)
        x = np.concatenate([self._pending, x])
        whole = len(x) // self._step * self._step
        if whole:
            sub = (x[:whole] ** 2).reshape(-1, self._step, self.channels).mean(axis=1).sum(axis=1)
            self._energies.extend(sub.tolist())
        self._pending = x[whole:]

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS (-inf for silence or less than 400 ms)."""
        sub = np.asarray(self._energies)
        if len(sub) < 4:
            return float("-inf")
        blocks = np.convolve(sub, np.ones(4) / 4, mode="valid")
        gated = blocks[blocks > 10 ** ((-70.0 + 0.691) / 10)]
        if not len(gated):
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean()) - 10.0
        gated = gated[gated > 10 ** ((relative + 0.691) / 10)]
        return float(-0.691 + 10 * np.log10(gated.mean()))


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of a whole (n,) or (n, channels) signal."""
    x = np.asarray(samples)
    meter = LoudnessMeter(rate, 1 if x.ndim == 1 else x.shape[1])
    meter.add(x)
    return meter.integrated()


_TP_PHASES = (firwin(48, 0.25 * 0.9, window=("kaiser", 8.0)) * 4).reshape(12, 4).T  # 4 phases x 12 taps


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    """True peak in dBTP: the peak of the signal oversampled 4x (BS.1770-4 annex 2: 48-tap interpolator)."""
    del rate  # the oversampling factor is fixed (4x for 44.1/48 kHz)
    x = np.asarray(samples, dtype=np.float32)
    if not x.size:
        return -200.0
    x = x.reshape(len(x), -1)
    peak = float(np.max(np.abs(x)))
    for ch in range(x.shape[1]):
        for phase in _TP_PHASES:
            peak = max(peak, float(np.max(np.abs(np.convolve(x[:, ch], phase.astype(np.float32), mode="same")))))
    return float(20 * np.log10(max(peak, 1e-10)))

def _trapezoids(times: np.ndarray, spans: Sequence[tuple[float, float]], attack: float, release: float) -> np.ndarray:
    """1 inside each span, linear ramps of ``attack`` before and ``release`` after, max over spans."""
    out = np.zeros_like(times)
    for s, e in spans:
        lo, hi = np.searchsorted(times, [s - attack, e + release])
        t = times[lo:hi]
        up = np.clip((t - (s - attack)) / attack, 0, 1) if attack > 0 else (t >= s).astype(float)
        down = np.clip(((e + release) - t) / release, 0, 1) if release > 0 else (t <= e).astype(float)
        out[lo:hi] = np.maximum(out[lo:hi], np.minimum(up, down))
    return out


def _merge(spans: Sequence[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for s, e in sorted(spans):
        if merged and s - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def duck_envelope(times: np.ndarray, speech: Sequence[tuple[float, float]], keep: Sequence[tuple[float, float]],
                  options: MixOptions) -> np.ndarray:
    """Linear gain for the source audio at ``times``: ``duck_db`` under speech, 1 elsewhere and inside ``keep``.

    The ramp down starts ``attack`` before the speech so the source is already low when a word begins.
    """
    amount = _trapezoids(times, _merge(speech, 0.8), options.attack, options.release)
    if keep:
        amount *= 1.0 - _trapezoids(times, keep, 0.05, 0.05)
    return np.asarray(10.0 ** (options.duck_db * amount / 20.0))


def _speech_spans(placed: Sequence[NarrationPlacement]) -> list[tuple[float, float]]:
    spans = []
    for p in placed:
        words = p.narration.words
        s, e = (words[0].start, words[-1].end) if words else (0.0, p.narration.duration)
        spans.append((p.start + s, p.start + e))
    return spans


def _write_source(buf: np.ndarray, source: Path | None, rate: int, cancel: CancelFn) -> None:
    """Stream the program's source audio into the buffer (silence when it has none)."""
    if source is None:
        return
    pos = 0
    try:
        for block in iter_audio(source, rate, 2):
            if cancel():
                raise CancelledError("mix cancelled")
            n = min(len(block), len(buf) - pos)
            if n <= 0:
                break
            buf[pos:pos + n] = block[:n]
            pos += n
    except NoAudioStreamError:
        return


def _add_music(buf: np.ndarray, music: Path, rate: int, gain: float) -> None:
    """Loop the music bed under the whole program at ``gain`` (bounded: the bed itself is loaded whole)."""
    bed, _ = load_audio(music, rate, 2)
    if not len(bed):
        return
    for pos in range(0, len(buf), len(bed)):
        n = min(len(bed), len(buf) - pos)
        buf[pos:pos + n] += bed[:n] * gain


def _add_narration(buf: np.ndarray, placed: Sequence[NarrationPlacement], rate: int, gain: float) -> None:
    for p in placed:
        voice, _ = load_audio(p.narration.path, rate, 2)
        at = max(0, round(p.start * rate))
        n = max(0, min(len(voice), len(buf) - at))
        buf[at:at + n] += voice[:n] * gain


def _limit(x: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """Look-ahead peak limiter: the gain reaches its value before each peak (5 ms hold, 5 ms smoothing)."""
    x = np.asarray(x, dtype=np.float32)
    peak = np.max(np.abs(x), axis=1)
    if not len(peak) or float(peak.max()) <= ceiling:
        return x
    need = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(peak, np.float32(1e-9)))
    width = max(1, int(0.005 * rate))
    gain = uniform_filter1d(minimum_filter1d(need, 2 * width + 1, mode="nearest"), width, mode="nearest")
    return np.asarray(x * gain[:, None], dtype=np.float32)


def _finish_pass(buf: np.ndarray, gain: float, ceiling: float, rate: int, meter: LoudnessMeter | None,
                 out: np.ndarray | None, true_peak: bool = True) -> float:
    """Apply gain + limiter chunk by chunk (with look-ahead margins); feed the meter; return the true peak."""
    margin = int(0.02 * rate)
    peak = -200.0
    for pos in range(0, len(buf), _CHUNK):
        lo, hi = max(0, pos - margin), min(len(buf), pos + _CHUNK + margin)
        block = _limit(np.asarray(buf[lo:hi]) * np.float32(gain), ceiling, rate)
        block = block[pos - lo:pos - lo + min(_CHUNK, len(buf) - pos)]
        if meter is not None:
            meter.add(block)
        if true_peak:
            peak = max(peak, true_peak_dbtp(block, rate))
        if out is not None:
            out[pos:pos + len(block)] = block
    return peak


def _measure(buf: np.ndarray, rate: int) -> tuple[float, float]:
    """(integrated loudness, sample peak) of the buffer."""
    meter = LoudnessMeter(rate, 2)
    peak = 0.0
    for pos in range(0, len(buf), _CHUNK):
        block = np.asarray(buf[pos:pos + _CHUNK])
        meter.add(block)
        peak = max(peak, float(np.max(np.abs(block))) if len(block) else 0.0)
    return meter.integrated(), peak


def _write_pcm(path: Path, data: np.ndarray, rate: int) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            for pos in range(0, len(data), _CHUNK):
                wav.writeframes((np.clip(data[pos:pos + _CHUNK], -1, 1) * 32767.0).astype("<i2").tobytes())
        tmp.replace(path)
    except OSError as ex:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write the mix {path.name}: {ex.strerror or ex}") from ex


def mix(source: Path | None, placed: Sequence[NarrationPlacement], out_path: Path, *, duration: float,
        keep_source: Sequence[tuple[float, float]] = (), music: Path | None = None,
        options: MixOptions | None = None, progress: ProgressFn | None = None,
        cancel: CancelFn = never_cancel) -> MixResult:
    """Mix narration over the ducked source audio (and a music bed), normalise loudness, write a 16-bit wav.

    Args:
        source: the assembled cut (its first audio stream is the program's source audio), or None.
        placed: narrations with their start on the output timeline.
        out_path: the stereo wav to write (atomically).
        duration: the program's length in seconds (the mix is exactly this long).
        keep_source: output-time spans where the source stays at full level ("let the scene play").
        music: an optional music bed, looped and ducked with the source.

    Returns:
        MixResult with the measured integrated loudness (LUFS) and true peak (dBTP) of the written file.
    """
    opts = options or MixOptions()
    rate = opts.sample_rate
    n = max(1, round(duration * rate))
    if not out_path.parent.is_dir():
        raise OutputError(f"output folder {out_path.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix=".recap-mix-", dir=out_path.parent) as tmp:
        buf = _buffer(Path(tmp) / "mix.f32", n)
        _write_source(buf, source, rate, cancel)
        if music is not None:
            _add_music(buf, music, rate, 10 ** (opts.music_db / 20))
        speech = _speech_spans(placed)
        for pos in range(0, n, _CHUNK):
            times = (np.arange(pos, min(n, pos + _CHUNK)) / rate).astype(np.float64)
            buf[pos:pos + len(times)] *= duck_envelope(times, speech, keep_source, opts)[:, None].astype(np.float32)
        if progress:
            progress(0.3)
        _add_narration(buf, placed, rate, 10 ** (opts.narration_db / 20))
        if cancel():
            raise CancelledError("mix cancelled")
        final = _buffer(Path(tmp) / "final.f32", n)
        return _normalise(buf, final, out_path, opts, duration, progress)


def _buffer(path: Path, n: int) -> np.ndarray:
    """A disk-backed (n, 2) float32 buffer, its space reserved up front (a full disk fails here, not as SIGBUS)."""
    try:
        with path.open("wb") as f:
            os.posix_fallocate(f.fileno(), 0, n * 8)
    except OSError as ex:
        raise OutputError(f"no room for the mix buffer ({n * 8 // 1_000_000} MB): {ex.strerror or ex}") from ex
    return np.memmap(path, dtype=np.float32, mode="r+", shape=(n, 2))


def _normalise(buf: np.ndarray, final: np.ndarray, out_path: Path, opts: MixOptions, duration: float,
               progress: ProgressFn | None) -> MixResult:
    """Gain to the target, limit to the true-peak ceiling, correct the limiter's loudness loss once, write."""
    rate = opts.sample_rate
    measured, sample_peak = _measure(buf, rate)
    if not np.isfinite(measured):  # silence: nothing to normalise
        _write_pcm(out_path, buf, rate)
        return MixResult(out_path, float("-inf"), -200.0, duration, 0.0)
    ceiling = 10 ** ((opts.true_peak_db - 0.6) / 20)  # sample-peak ceiling with room for inter-sample peaks
    gain_db = opts.target_lufs - measured
    if sample_peak * 10 ** (gain_db / 20) > ceiling:  # the limiter will work: learn how much loudness it takes
        meter = LoudnessMeter(rate, 2)
        _finish_pass(buf, 10 ** (gain_db / 20), ceiling, rate, meter, None, true_peak=False)
        gain_db += opts.target_lufs - meter.integrated()
    if progress:
        progress(0.6)
    meter = LoudnessMeter(rate, 2)
    peak = _finish_pass(buf, 10 ** (gain_db / 20), ceiling, rate, meter, final)
    if peak > opts.true_peak_db:  # rare: inter-sample overshoot beyond the margin
        trim = 10 ** ((opts.true_peak_db - peak - 0.05) / 20)
        final *= np.float32(trim)
        gain_db += 20 * np.log10(trim)
        meter = LoudnessMeter(rate, 2)
        peak = _finish_pass(final, 1.0, 1.0, rate, meter, None)
    _write_pcm(out_path, final, rate)
    if progress:
        progress(1.0)
    return MixResult(out_path, round(meter.integrated(), 2), round(peak, 2), duration, round(gain_db, 2))
