"""media.whisper_ts: the optional whisper-timestamped backend.

No trained openai-whisper checkpoint ships in a package, and the backend never downloads one. So this
test builds a TINY, RANDOMLY INITIALISED openai-whisper checkpoint (2 layers, width 64) in a temp folder:
its words are gibberish. It proves the plumbing only (local checkpoint loading, the Transcriber interface,
chunking with absolute times, word-level structure, cancel), not transcription quality; the quality
checks on real speech are in test_speech.py with the shipped faster-whisper model.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from media.errors import CancelledError, ModelError
from media.speech import SAMPLE_RATE, TranscribeOptions, Transcriber, extract_audio
from media.types import Transcript
from media.whisper_ts import WhisperTimestampedTranscriber

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("whisper_timestamped") is None,
                       reason="optional extra whisper-timestamped is not installed "
                              "(pip install 'recap[whisper-timestamped]')"),
    # Third-party noise: openai-whisper's beam search calls np.argsort on a torch tensor.
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning"),
]
#: A random model never emits end-of-text on its own; cap the tokens per window to keep the test fast.
MAX_TOKENS = 12

JFK = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "jfk.flac"


def _tone_speechlike(seconds: float) -> np.ndarray:
    """Amplitude-modulated tones: not speech, but loud enough to be decoded (the model is random anyway)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _audio() -> np.ndarray:
    return extract_audio(JFK) if JFK.is_file() else _tone_speechlike(11.0)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    # English-only vocabulary size (51864) so the bundled gpt2.tiktoken tokenizer is used.
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=2,
                           n_vocab=51864, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=2)
    model = Whisper(dims)
    # openai-whisper leaves the decoder's positional embedding as torch.empty (a checkpoint fills it):
    # initialise it, or the "random" model would differ from run to run with whatever memory held.
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    path = tmp_path_factory.mktemp("whisper") / "tiny-random.en.pt"
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def transcriber(checkpoint: Path) -> WhisperTimestampedTranscriber:
    return WhisperTimestampedTranscriber(checkpoint)


def test_backend_satisfies_the_protocol(transcriber: WhisperTimestampedTranscriber) -> None:
    backend: Transcriber = transcriber
    assert isinstance(backend, Transcriber) and not transcriber.multilingual


def test_tokenizer_vocab_is_bundled() -> None:
    import whisper

    assets = Path(whisper.__file__).parent / "assets"
    assert (assets / "gpt2.tiktoken").is_file() and (assets / "multilingual.tiktoken").is_file()


@pytest.mark.parametrize("name", ["tiny", "tiny.en", "does/not/exist.pt"])
def test_only_local_checkpoints(name: str) -> None:
    with pytest.raises(ModelError) as info:
        WhisperTimestampedTranscriber(name)  # a model name would mean a download: refused
    assert info.value.code == "MODEL_UNAVAILABLE"


def test_not_a_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ModelError):
        WhisperTimestampedTranscriber(bad)


@pytest.mark.parametrize("beam_size", [1, 5])
def test_runs_end_to_end_with_word_structure(transcriber: WhisperTimestampedTranscriber, beam_size: int) -> None:
    audio = _audio()
    transcript = transcriber.transcribe(audio, TranscribeOptions(beam_size=beam_size, max_new_tokens=MAX_TOKENS))
    assert isinstance(transcript, Transcript)
    assert transcript.language == "en" and transcript.duration == round(len(audio) / SAMPLE_RATE, 3)
    words = transcript.words
    assert transcript.segments and words  # a random model emits tokens; each becomes a timed word
    for seg in transcript.segments:
        assert 0.0 <= seg.start <= seg.end <= transcript.duration
        for w in seg.words:
            assert 0.0 <= w.start <= w.end <= transcript.duration and w.text
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert Transcript.from_json(transcript.to_json()) == transcript


def test_path_input_and_chunks_keep_absolute_times(transcriber: WhisperTimestampedTranscriber, tmp_path: Path) -> None:
    from media.speech import write_wav

    audio = _audio()
    path = write_wav(tmp_path / "twice.wav", np.concatenate([audio, audio]))
    seen: list[float] = []
    options = TranscribeOptions(chunk_seconds=10.0, beam_size=1, max_new_tokens=MAX_TOKENS)
    transcript = transcriber.transcribe(path, options, progress=seen.append)
    starts = [s.start for s in transcript.segments]
    # Pieces of about 10 s, cut within +-2.5 s: the first piece ends by 12.5 s, so a segment starting later
    # comes from a later piece and carries its offset (relative times would all be under 12.5 s).
    assert any(s < 12.5 for s in starts) and any(s > 12.5 for s in starts)
    assert all(s.end <= transcript.duration for s in transcript.segments)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_cancel_and_unsupported_options(transcriber: WhisperTimestampedTranscriber) -> None:
    with pytest.raises(CancelledError):
        transcriber.transcribe(_tone_speechlike(2.0), cancel=lambda: True)
    with pytest.raises(ValueError):
        transcriber.transcribe(_tone_speechlike(2.0), TranscribeOptions(vad_filter=True))
    with pytest.raises(ModelError):
        transcriber.transcribe(_tone_speechlike(2.0), TranscribeOptions(language="de"))


def test_silence_gives_empty_transcript(transcriber: WhisperTimestampedTranscriber) -> None:
    silence = np.zeros(3 * SAMPLE_RATE, np.float32)
    transcript = transcriber.transcribe(silence, TranscribeOptions(max_new_tokens=MAX_TOKENS))
    assert transcript.segments == () and transcript.duration == 3.0


def test_plain_whisper_fallback_has_word_structure(transcriber: WhisperTimestampedTranscriber) -> None:
    # The path taken when whisper-timestamped's DTW finds no warping path: openai-whisper's own word times.
    options = {"language": "en", "beam_size": None, "temperature": 0.0, "condition_on_previous_text": False,
               "fp16": False, "sample_len": MAX_TOKENS, "verbose": None}
    result = transcriber.plain_whisper(_tone_speechlike(4.0), options)
    words = [w for s in result["segments"] for w in s["words"]]
    assert words and all({"word", "start", "end", "probability"} <= set(w) for w in words)
