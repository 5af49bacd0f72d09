"""Optional transcription backend: whisper-timestamped (openai-whisper + DTW word alignment).

    transcriber = WhisperTimestampedTranscriber("/models/whisper/tiny.en.pt")
    transcript = transcriber.transcribe("movie.mp4", TranscribeOptions(beam_size=1))
    print(transcript.words[:3])

Same ``Transcriber`` interface, chunking, progress and cancel as the default
faster-whisper backend (``media.speech``). Needs the ``whisper-timestamped``
extra (``pip install recap[whisper-timestamped]``); it is imported lazily and a
missing package raises ``ModelError`` (MODEL_UNAVAILABLE). The model is loaded
only from a LOCAL openai-whisper ``.pt`` checkpoint: nothing is ever downloaded.
Cancel is checked between pieces (whisper-timestamped returns a piece at once).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from media._speech_chunks import transcribe_chunked
from media.errors import ModelError
from media.speech import AudioInput, TranscribeOptions, audio_source
from media.types import CancelFn, ProgressFn, Segment, Transcript, Word

__all__ = ["WhisperTimestampedTranscriber"]

_INSTALL_HINT = "install the optional extra: pip install 'recap[whisper-timestamped]'"


def _import_backend() -> tuple[Any, Any]:
    try:
        import torch
        import whisper_timestamped
    except ImportError as ex:
        raise ModelError(f"the whisper-timestamped backend is not installed ({ex.name} missing); "
                         f"{_INSTALL_HINT}") from ex
    return whisper_timestamped, torch


class WhisperTimestampedTranscriber:
    """Transcribe with whisper-timestamped from a local openai-whisper checkpoint.

    Args:
        checkpoint_path: an openai-whisper ``.pt`` file (``{"dims": ..., "model_state_dict": ...}``).
        device: a torch device ("cpu", "cuda").

    Raises:
        ModelError: the package is missing, or the checkpoint is missing or unloadable.
    """

    def __init__(self, checkpoint_path: str | Path, device: str = "cpu") -> None:
        path = Path(checkpoint_path)
        if not path.is_file() or path.suffix != ".pt":
            # Never pass a bare name on: whisper would take "tiny" as a model to download.
            raise ModelError(f"no local openai-whisper checkpoint (.pt file) at {path}")
        self._wt, torch = _import_backend()
        self.checkpoint_path = path.resolve()
        self.device = device
        try:
            self.model = self._wt.load_model(str(self.checkpoint_path), device=device)
        except (RuntimeError, KeyError, ValueError, OSError, TypeError, EOFError, pickle.UnpicklingError) as ex:
            raise ModelError(f"cannot load the whisper checkpoint {path.name}: {ex}") from ex
        self._fp16 = torch.device(device).type != "cpu"

    @property
    def multilingual(self) -> bool:
        return bool(self.model.is_multilingual)

    def transcribe(self, audio: AudioInput, options: TranscribeOptions = TranscribeOptions(),
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Transcript:
        """Transcribe an array (16 kHz mono float32) or a media file, with word timestamps.

        Raises:
            ValueError: ``vad_filter`` asked (whisper-timestamped's VAD downloads its model).
            ModelError: a language other than English asked of an English-only model.
            CancelledError: ``cancel()`` returned True (checked between pieces).
        """
        if options.vad_filter:
            raise ValueError("vad_filter is not available with whisper-timestamped (its VAD model is downloaded)")
        if options.language not in (None, "en") and not self.multilingual:
            raise ModelError(f"{self.checkpoint_path.name} is English-only; "
                             f"use a multilingual checkpoint for language {options.language!r}")
        default = "en" if not self.multilingual else ""
        return transcribe_chunked(audio_source(audio), self._decoder(options), chunk_seconds=options.chunk_seconds,
                                  language=options.language, default_language=default,
                                  progress=progress, cancel=cancel)

    def _decoder(self, options: TranscribeOptions) -> Callable[..., tuple[list[Segment], str]]:
        temps = options.temperatures[0] if len(options.temperatures) == 1 else options.temperatures

        def decode(samples: np.ndarray, language: str | None,
                   tick: Callable[[float], None]) -> tuple[list[Segment], str]:
            common: dict[str, Any] = {
                "language": language, "beam_size": None if options.beam_size == 1 else options.beam_size,
                "temperature": temps, "condition_on_previous_text": options.condition_on_previous_text,
                "fp16": self._fp16, "sample_len": options.max_new_tokens, "verbose": None}
            try:
                result = self._wt.transcribe(self.model, samples, vad=False, **common)
            except ValueError as ex:
                if "warping path" not in str(ex):
                    raise
                result = self.plain_whisper(samples, common)
            tick(len(samples) / 16000.0)
            segments = [_segment(s, options.word_timestamps) for s in result.get("segments", [])]
            return [s for s in segments if s.text], str(result.get("language") or language or "")

        return decode

    def plain_whisper(self, samples: np.ndarray, options: dict[str, Any]) -> dict[str, Any]:
        """openai-whisper's own transcription with its word timestamps.

        The fallback when whisper-timestamped's DTW finds no warping path (a segment with more
        tokens than audio frames); the words then come from openai-whisper's cross-attention times.
        """
        import whisper

        result: dict[str, Any] = whisper.transcribe(self.model, samples, word_timestamps=True, **options)
        return result


def _segment(data: dict[str, Any], with_words: bool) -> Segment:
    """A Segment from a whisper-timestamped (text, confidence) or openai-whisper (word, probability) dict."""
    words = []
    for w in data.get("words", []) if with_words else ():
        text = str(w.get("text", w.get("word", ""))).strip()
        if text:
            words.append(Word(float(w["start"]), float(w["end"]), text,
                              round(float(w.get("confidence", w.get("probability", 1.0))), 4)))
    return Segment(float(data["start"]), float(data["end"]), str(data["text"]).strip(), tuple(words))
