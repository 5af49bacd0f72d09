"""media.speech: audio extraction and faster-whisper transcription on real media with the shipped tiny.en model."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from media.errors import CancelledError, EmptyFileError, ModelError, NoAudioStreamError, NotMediaError
from media.speech import (
    SAMPLE_RATE,
    FasterWhisperTranscriber,
    TranscribeOptions,
    Transcriber,
    default_whisper_model_dir,
    extract_audio,
    write_wav,
)
from media.types import Transcript
from tests.media.gen import make_audio, make_clip

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"
needs_media = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"real test media folder {MEDIA} is absent")
JFK = MEDIA / "jfk.flac"
BANANA = MEDIA / "autoeditor_example_banana.mp4"
LIBRIVOX = MEDIA / "librivox"

#: Written-out forms the LibriVox references use where Whisper writes abbreviations.
_SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def normalise(text: str) -> list[str]:
    words = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()
    return [_SPOKEN.get(w, w) for w in words]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
    return row[-1]


@pytest.mark.parametrize(("ref", "hyp", "expected"), [
    ("a b c", "a b c", 0), ("a b c", "a c", 1), ("a b", "a x b", 1), ("a b c", "x y z", 3), ("", "a", 1),
])
def test_edit_distance_cases(ref: str, hyp: str, expected: int) -> None:
    assert edit_distance(ref.split(), hyp.split()) == expected


@pytest.fixture(scope="module")
def transcriber() -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber()


def word_times(transcript: Transcript, word: str) -> list[float]:
    return [w.start for w in transcript.words if normalise(w.text) == [word]]


# --- extraction -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".flac", ".wav", ".mkv", ".m4a", ".ogg"])
def test_extract_audio_resamples_any_container(tmp_path: Path, suffix: str) -> None:
    codec = {".flac": "flac", ".wav": "pcm_s16le", ".mkv": "flac", ".m4a": "aac", ".ogg": "libvorbis"}[suffix]
    path = make_audio(tmp_path / f"tone{suffix}", seconds=2.0, codec=codec, freq=1000.0)
    audio = extract_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / SAMPLE_RATE - 2.0) < 0.06
    spectrum = np.abs(np.fft.rfft(audio[SAMPLE_RATE // 4: SAMPLE_RATE // 4 + SAMPLE_RATE]))
    assert abs(int(np.argmax(spectrum)) - 1000) <= 2  # 1 Hz bins over one second: the tone survives resampling


def test_extract_audio_from_video_with_sound(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "av.mp4", [((200, 10, 10), 24)], fps=24, audio=True, audio_freq=500.0)
    audio = extract_audio(clip, sample_rate=8000)
    assert abs(len(audio) / 8000 - 1.0) < 0.1
    spectrum = np.abs(np.fft.rfft(audio[1000:9000] if len(audio) >= 9000 else audio))
    assert abs(np.argmax(spectrum) * 8000 / (2 * (len(spectrum) - 1)) - 500.0) < 5.0


def _adts_tone(path: Path, rate: int, layout: str, freq: float) -> bytes:
    import av

    with av.open(str(path), "w", format="adts") as out:
        stream = out.add_stream("aac", rate=rate, layout=layout)
        wave_ = (0.3 * np.sin(2 * np.pi * freq * np.arange(rate) / rate)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([wave_] * (2 if layout == "stereo" else 1)), format="fltp",
                                           layout=layout)
        frame.sample_rate, frame.pts = rate, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path.read_bytes()


def test_extract_audio_survives_a_format_change_midstream(tmp_path: Path) -> None:
    # Two ADTS AAC streams back to back: 1 s stereo 44.1 kHz at 500 Hz, then 1 s mono 22.05 kHz at 1 kHz.
    joined = tmp_path / "joined.aac"
    joined.write_bytes(_adts_tone(tmp_path / "a.aac", 44100, "stereo", 500.0)
                       + _adts_tone(tmp_path / "b.aac", 22050, "mono", 1000.0))
    audio = extract_audio(joined)
    assert 1.9 < len(audio) / SAMPLE_RATE < 2.3
    for start, freq in ((0.3, 500), (len(audio) / SAMPLE_RATE - 0.7, 1000)):
        piece = audio[int(start * SAMPLE_RATE): int(start * SAMPLE_RATE) + SAMPLE_RATE // 2]
        peak_hz = np.argmax(np.abs(np.fft.rfft(piece))) * SAMPLE_RATE / len(piece)
        assert abs(peak_hz - freq) <= 4


@needs_media
def test_extract_audio_real_flac_and_mp4() -> None:
    assert abs(len(extract_audio(JFK)) / SAMPLE_RATE - 11.0) < 0.05
    assert abs(len(extract_audio(BANANA)) / SAMPLE_RATE - 42.4) < 0.1


@needs_media
def test_video_only_real_mkv_has_no_audio() -> None:
    with pytest.raises(NoAudioStreamError) as info:
        extract_audio(MEDIA / "popeye" / "vob_Title_T00-1.mkv")
    assert info.value.code == "NO_AUDIO_STREAM"


def test_video_only_generated_clip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "mute.mp4", [((0, 0, 255), 12)])
    with pytest.raises(NoAudioStreamError):
        extract_audio(clip)


@pytest.mark.parametrize(("content", "error", "code"), [
    (b"", EmptyFileError, "EMPTY_FILE"),
    (b"this is only a text file\n" * 40, NotMediaError, "NOT_MEDIA"),
])
def test_extract_audio_bad_files(tmp_path: Path, content: bytes, error: type[Exception], code: str) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        extract_audio(path)
    assert getattr(info.value, "code", None) == code


def test_extract_audio_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        extract_audio(tmp_path / "nope.wav")


def test_write_wav_round_trip(tmp_path: Path) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    audio = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    path = write_wav(tmp_path / "proxy.wav", audio)
    with wave.open(str(path)) as w:
        header = (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes())
    assert header == (1, 2, SAMPLE_RATE, SAMPLE_RATE)
    back = extract_audio(path)
    assert np.max(np.abs(back - audio)) < 1e-3


# --- options and model ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"beam_size": 0}, {"beam_size": 21}, {"chunk_seconds": 1.0}, {"language": "english!"},
    {"temperatures": ()}, {"temperatures": (0.0, 1.5)},
])
def test_options_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TranscribeOptions(**kwargs)  # type: ignore[arg-type]


def test_default_model_dir_ships_tiny_en() -> None:
    model_dir = default_whisper_model_dir()
    assert (model_dir / "model.bin").is_file() and (model_dir / "tokenizer.json").is_file()


def test_backend_satisfies_the_protocol(transcriber: FasterWhisperTranscriber) -> None:
    backend: Transcriber = transcriber  # mypy checks the signature; isinstance checks the method at run time
    assert isinstance(backend, Transcriber)


def test_missing_model_dir(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        FasterWhisperTranscriber(tmp_path / "no-model")
    assert info.value.code == "MODEL_UNAVAILABLE"


def test_english_only_model_refuses_other_language(transcriber: FasterWhisperTranscriber) -> None:
    assert not transcriber.multilingual
    with pytest.raises(ModelError):
        transcriber.transcribe(np.zeros(SAMPLE_RATE, np.float32), TranscribeOptions(language="fr"))


def test_rejects_stereo_array(transcriber: FasterWhisperTranscriber) -> None:
    with pytest.raises(ValueError):
        transcriber.transcribe(np.zeros((2, SAMPLE_RATE), np.float32))


# --- transcription on real speech -------------------------------------------------------------

@needs_media
def test_jfk_americans_at_1_8_s(transcriber: FasterWhisperTranscriber) -> None:
    transcript = transcriber.transcribe(JFK)
    times = word_times(transcript, "americans")
    assert len(times) == 1 and abs(times[0] - 1.8) <= 0.3
    assert transcript.language == "en" and abs(transcript.duration - 11.0) < 0.05
    assert "ask not what your country can do for you" in " ".join(normalise(transcript.text))
    for w in transcript.words:
        assert 0.0 <= w.start <= w.end <= transcript.duration and 0.0 <= w.probability <= 1.0


@needs_media
def test_banana_at_40_s(transcriber: FasterWhisperTranscriber) -> None:
    transcript = transcriber.transcribe(BANANA)
    times = word_times(transcript, "banana")
    assert any(abs(t - 40.0) <= 0.5 for t in times), times


@needs_media
def test_sintel_trailer_first_line_over_music(transcriber: FasterWhisperTranscriber) -> None:
    transcript = transcriber.transcribe(MEDIA / "sintel_trailer_480x204.mp4")
    first = transcript.segments[0]
    assert " ".join(normalise(first.text)) == "what brings you to the land of the gatekeepers"
    assert abs(first.words[0].start - 12.2) <= 0.4


@needs_media
def test_vad_filter_keeps_absolute_times(transcriber: FasterWhisperTranscriber) -> None:
    # 5 s of noise-free silence first: the VAD drops it, and the times must still count it.
    audio = np.concatenate([np.zeros(5 * SAMPLE_RATE, np.float32), extract_audio(JFK)])
    transcript = transcriber.transcribe(audio, TranscribeOptions(vad_filter=True))
    times = word_times(transcript, "americans")
    assert len(times) == 1 and abs(times[0] - (5.0 + 1.8)) <= 0.3


@needs_media
def test_array_and_path_give_the_same_words(transcriber: FasterWhisperTranscriber) -> None:
    by_path = transcriber.transcribe(JFK)
    by_array = transcriber.transcribe(extract_audio(JFK))
    assert [(w.text, w.start) for w in by_path.words] == [(w.text, w.start) for w in by_array.words]


@needs_media
def test_librivox_word_error_rate(transcriber: FasterWhisperTranscriber) -> None:
    refs = {}
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        match = re.match(r"<s>(.*)</s> \((.*)\)", line.strip())
        if match:
            refs[match.group(2)] = normalise(match.group(1))
    assert len(refs) == 5
    errors = total = 0
    for name, ref in refs.items():
        hyp = normalise(transcriber.transcribe(LIBRIVOX / f"{name}.wav").text)
        errors += edit_distance(ref, hyp)
        total += len(ref)
    wer = errors / total
    print(f"\nLibriVox WER (tiny.en int8, beam 5): {wer:.3f} ({errors}/{total} words)")
    assert wer < 0.15


@needs_media
def test_long_audio_chunks_keep_absolute_times(transcriber: FasterWhisperTranscriber) -> None:
    jfk = extract_audio(JFK)
    audio = np.concatenate([jfk, jfk])  # 22 s in pieces of about 10 s: the second speech lies in a later piece
    seen: list[float] = []
    transcript = transcriber.transcribe(audio, TranscribeOptions(chunk_seconds=10.0), progress=seen.append)
    times = word_times(transcript, "americans")
    assert len(times) == 2
    assert abs(times[0] - 1.8) <= 0.3 and abs(times[1] - (11.0 + 1.8)) <= 0.3
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3
    assert abs(transcript.duration - 22.0) < 0.01


@needs_media
def test_cancel_stops_between_segments(transcriber: FasterWhisperTranscriber) -> None:
    """Deterministic: cancel is requested once the first unit of work reported; the loop stops at its
    next check and reports nothing after it (how many ticks one piece has is the model's business)."""
    calls: list[float] = []
    seen_at: list[int] = []

    def cancel() -> bool:
        if calls:
            seen_at.append(len(calls))
            return True
        return False

    with pytest.raises(CancelledError) as info:
        transcriber.transcribe(BANANA, TranscribeOptions(chunk_seconds=10.0), progress=calls.append, cancel=cancel)
    assert info.value.code == "CANCELLED"
    assert len(seen_at) == 1  # the first check after the request raised
    assert seen_at[0] == len(calls)  # no unit of work was reported after the cancel was seen
    assert calls[-1] < 1.0  # it stopped before the end


def test_cancel_before_start(transcriber: FasterWhisperTranscriber) -> None:
    with pytest.raises(CancelledError):
        transcriber.transcribe(np.zeros(SAMPLE_RATE, np.float32), cancel=lambda: True)


@pytest.mark.parametrize("level", [0.0, 1e-4])
def test_silence_gives_empty_transcript(transcriber: FasterWhisperTranscriber, level: float) -> None:
    rng = np.random.default_rng(0)
    audio = (level * rng.standard_normal(5 * SAMPLE_RATE)).astype(np.float32)
    transcript = transcriber.transcribe(audio)
    assert transcript.segments == () and transcript.duration == 5.0 and transcript.language == "en"


def test_empty_audio_gives_empty_transcript(transcriber: FasterWhisperTranscriber, tmp_path: Path) -> None:
    assert transcriber.transcribe(np.zeros(0, np.float32)).segments == ()
    path = write_wav(tmp_path / "silent.wav", np.zeros(2 * SAMPLE_RATE, np.float32))
    transcript = transcriber.transcribe(path)
    assert transcript.segments == () and abs(transcript.duration - 2.0) < 0.01


def test_int16_array_is_accepted(transcriber: FasterWhisperTranscriber) -> None:
    transcript = transcriber.transcribe(np.zeros(SAMPLE_RATE, np.int16))
    assert transcript.segments == ()


@needs_media
def test_transcript_json_round_trip(transcriber: FasterWhisperTranscriber) -> None:
    transcript = transcriber.transcribe(JFK)
    assert Transcript.from_json(transcript.to_json()) == transcript
