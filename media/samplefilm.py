"""A small generated film with spoken dialogue, and a recap script that paraphrases it.

``recap demo`` uses it so a fresh machine has something real to render: distinct scenes
(two shots each), dialogue spoken by the packaged Piper voice at different paces, and a
script whose paragraphs retell the scenes in order (``truth.json`` holds the answer).

    film = build_sample_film(Path("demo"), narrator=PiperNarrator())
    print(film.movie, film.script)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from media.tts import Narrator, read_wav
from media.types import ProgressFn

FPS = 24
SIZE = (640, 360)
RATE = 48000
PAUSE_S = 0.5

#: (title, colours (BGR) of the scene's two shots, dialogue lines, the script's paraphrase)
SCENES: tuple[tuple[str, tuple[tuple[int, int, int], tuple[int, int, int]], tuple[str, ...], str], ...] = (
    ("The bakery", ((40, 90, 200), (60, 140, 230)),
     ("Good morning, Marta. The ovens are hot and the bread smells wonderful.",
      "Thank you, Leo. Today we bake three hundred loaves for the harvest festival."),
     "At dawn the baker Marta and her apprentice Leo fire up the ovens: three hundred loaves must be ready "
     "for the harvest festival."),
    ("The broken mill", ((120, 120, 40), (150, 160, 70)),
     ("Marta, bad news. The old windmill stopped turning last night.",
      "Without flour we cannot finish the bread. Someone has to climb up and fix the sails."),
     "Then trouble: the windmill that grinds their flour has stopped, and without flour the festival bread "
     "is in danger."),
    ("The climb", ((90, 40, 110), (120, 70, 150)),
     ("Hold the ladder steady, Leo. The wind is strong up here.",
      "I see it. A wooden peg snapped in the gear. I can carve a new one."),
     "Marta climbs the mill in a strong wind while Leo holds the ladder, and she finds a snapped wooden peg "
     "in the gears."),
    ("The storm", ((70, 70, 70), (100, 90, 80)),
     ("Thunder! Come down, Marta, the storm is almost here.",
      "One more turn of the hammer. There. The sails are moving again."),
     "A thunderstorm rolls in, but she refuses to come down until the sails turn again."),
    ("The festival", ((30, 160, 220), (50, 190, 120)),
     ("Look at the square, everyone is here, and every basket is full of bread.",
      "We did it together, Leo. Next year you will run the ovens yourself."),
     "The festival is saved: the square fills with baskets of bread, and Marta promises Leo he will run the "
     "ovens next year."),
)


#: scene index -> the chapter heading that opens there (each chapter lasts >= 10 s, as YouTube wants)
CHAPTERS = {0: "Dawn at the bakery", 1: "The broken mill", 3: "Storm and festival"}


@dataclass(frozen=True, slots=True)
class SampleFilm:
    movie: Path
    script: Path
    truth: Path
    duration: float


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return samples.astype(np.float32)
    n = round(len(samples) * RATE / rate)
    out: np.ndarray = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples)
    return out.astype(np.float32)


def _dialogue(narrator: Narrator, lines: Sequence[str], work: Path, tag: str) -> np.ndarray:
    parts: list[np.ndarray] = [np.zeros(int(0.6 * RATE), np.float32)]
    for i, line in enumerate(lines):
        wav = narrator.narrate(line, work / f"{tag}_{i}.wav").path
        samples, rate = read_wav(wav)
        parts += [_resample(samples if samples.ndim == 1 else samples.mean(axis=1), rate),
                  np.zeros(int(PAUSE_S * RATE), np.float32)]
    return np.concatenate(parts)


def _frame(colour: tuple[int, int, int], title: str, t: float, shot: int) -> np.ndarray:
    w, h = SIZE
    img = np.empty((h, w, 3), np.uint8)
    img[:] = colour
    ramp = np.linspace(0.55, 1.0, w, dtype=np.float32)[None, :, None]
    img = (img * (ramp if shot == 0 else ramp[:, ::-1])).astype(np.uint8)
    cx = int(w * (0.2 + 0.6 * ((t * 0.15) % 1.0)))
    cy = int(h * (0.55 + 0.15 * np.sin(t * 2.0)))
    cv2.circle(img, (cx, cy), 40 + 20 * shot, (240, 240, 240), -1)
    cv2.rectangle(img, (30 + shot * 400, 40), (200 + shot * 400, 120), (20, 20, 20), 3)
    cv2.putText(img, title, (30, h - 30), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (255, 255, 255), 2, cv2.LINE_AA)
    return img


def _encode(path: Path, scenes: list[tuple[str, tuple[tuple[int, int, int], tuple[int, int, int]], np.ndarray]],
            progress: ProgressFn | None) -> float:
    tmp = path.with_name(f".{path.name}.part")
    total = sum(len(a) for _, _, a in scenes) / RATE
    with av.open(str(tmp), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "23", "g": str(FPS * 2)})
        vs.width, vs.height, vs.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        aus = out.add_stream("aac", rate=RATE, layout="mono")
        done, t0 = 0, 0.0
        for title, colours, audio in scenes:
            n = round(len(audio) / RATE * FPS)
            for i in range(n):
                shot = 0 if i < n // 2 else 1
                frame = av.VideoFrame.from_ndarray(_frame(colours[shot], title, t0 + i / FPS, shot), format="bgr24")
                for packet in vs.encode(frame):
                    out.mux(packet)
                done += 1
                if progress and done % 48 == 0:
                    progress(min(0.99, done / (total * FPS)))
            t0 += n / FPS
            pcm = audio[: round(n / FPS * RATE)]
            pcm = np.pad(pcm, (0, round(n / FPS * RATE) - len(pcm)))
            for start in range(0, len(pcm), 1024):
                chunk = av.AudioFrame.from_ndarray(pcm[None, start:start + 1024], format="fltp", layout="mono")
                chunk.sample_rate = RATE
                chunk.pts = None
                chunk.time_base = Fraction(1, RATE)
                for packet in aus.encode(chunk):
                    out.mux(packet)
        for stream in (vs, aus):
            for packet in stream.encode(None):
                out.mux(packet)
    tmp.replace(path)
    return t0


def build_sample_film(out_dir: Path, narrator: Narrator, *, progress: ProgressFn | None = None) -> SampleFilm:
    """Write ``sample_film.mp4``, ``sample_script.md`` and ``truth.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / ".tts"
    work.mkdir(exist_ok=True)
    scenes = []
    for i, (title, colours, lines, _) in enumerate(SCENES):
        scenes.append((title, colours, _dialogue(narrator, lines, work, f"scene{i}")))
        if progress:
            progress(0.4 * (i + 1) / len(SCENES))
    movie = out_dir / "sample_film.mp4"
    duration = _encode(movie, scenes, (lambda f: progress(0.4 + 0.6 * f)) if progress else None)
    script = out_dir / "sample_script.md"
    parts = ["# The baker's festival"]
    for i, scene in enumerate(SCENES):
        if i in CHAPTERS:
            parts.append(f"## {CHAPTERS[i]}")
        parts.append(scene[3])
    script.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    starts = np.cumsum([0.0] + [round(len(a) / RATE * FPS) / FPS for _, _, a in scenes])
    truth = out_dir / "truth.json"
    truth.write_text(json.dumps({"movie": movie.name, "beats": [
        {"index": i, "start": float(starts[i]), "end": float(starts[i + 1])} for i in range(len(SCENES))]}, indent=1))
    if progress:
        progress(1.0)
    return SampleFilm(movie, script, truth, duration)
