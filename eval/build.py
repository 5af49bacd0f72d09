"""Build the alignment evaluation cases: movie.mp4 + script.md + truth.json per case (scorer format).

    PYTHONPATH=$PWD .venv/bin/python -m eval.build [--out eval/out] [--only CASE ...]

Each case lays scenes of a story (``eval/stories.py``) and real recordings (``../shared/media``) end
to end with short silent gaps, under unrelated real footage (Popeye 1936, Sintel, PySceneDetect and
auto-editor clips cut into 3-8 s shots, hard cuts at every scene edge). Speech is Piper
``en_US-joe-medium`` (the one packaged voice) made into several voices by pace and pitch (resampling),
then degraded like film audio: band-limit, reverb, hum, noise, a music bed and level changes. Scenes
whose beat is None are near-distractors (same names and topic, not in the script).

Truth beats are whole scenes (the scorer's convention). Piper is not deterministic: synthesized lines
are cached under ``OUT/cache/tts`` and reused, so a rebuild with the cache is identical.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from scipy import signal

from eval.stories import REAL, STORIES, Scene

ROOT = Path(__file__).resolve().parent.parent
MEDIA = (ROOT / ".." / "shared" / "media").resolve()
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/media")
RATE = 24000
FPS = 12
W, H = 256, 144
FOOTAGE = ["popeye/vob_Title_T00-1.mkv", "popeye/vob_Title_T01-2.mkv", "popeye/vob_Title_T02-3.mkv",
           "popeye/vob_Title_T03-4.mkv", "sintel_trailer_480x204.mp4", "pyscenedetect/testvideo.mp4",
           "autoeditor_example_banana.mp4"]


@dataclass(frozen=True)
class Degrade:
    band: tuple[float, float] = (80.0, 8000.0)
    rt60: float = 0.3
    music_db: float = -30.0  # music bed level relative to speech RMS
    snr_db: float = 30.0
    level_db: float = 2.0  # per-line level spread (+-)
    hum: float = 0.0


PROFILES = {
    "clean": Degrade(),
    "film": Degrade(band=(150.0, 4500.0), rt60=0.5, music_db=-14.0, snr_db=18.0, level_db=6.0, hum=0.01),
    "harsh": Degrade(band=(250.0, 3400.0), rt60=0.8, music_db=-9.0, snr_db=11.0, level_db=9.0, hum=0.02),
}


@dataclass(frozen=True)
class CaseSpec:
    name: str
    story: str
    profile: str
    seed: int
    split: str  # "tune" or "held"
    reals: tuple[tuple[int, str, bool], ...] = ()  # (insert before scene k, real key, described)
    drop_distractors: bool = False
    voices: dict[str, tuple[float, float]] = field(default_factory=dict)  # speaker -> (length_scale, pitch)


CASES = [
    CaseSpec("A_clean", "A", "clean", 11, "tune", ((2, "lv0870", True),)),
    CaseSpec("A_film", "A", "film", 12, "tune", ((5, "jfk", True), (9, "lv0920", False))),
    CaseSpec("B_film", "B", "film", 21, "tune", ((3, "banana", True),)),
    CaseSpec("B_harsh", "B", "harsh", 22, "tune", ((6, "lv0870", False),)),
    CaseSpec("C_film", "C", "film", 31, "held", ((4, "jfk", False), (10, "lv0920", False))),
    CaseSpec("C_harsh", "C", "harsh", 32, "held", ((7, "banana", True),)),
]


# ---------------------------------------------------------------- audio
def _voice_table(rng: np.random.Generator, speakers: list[str]) -> dict[str, tuple[float, float]]:
    """Speaker -> (length_scale, pitch factor): one packaged voice made into several by pace and pitch."""
    pitches = [0.84, 0.92, 1.0, 1.08, 1.16, 0.88, 1.12]
    rng.shuffle(pitches)
    return {s: (float(rng.uniform(0.85, 1.2)), pitches[k % len(pitches)]) for k, s in enumerate(speakers)}


class Tts:
    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self._voice: Any = None

    def line(self, text: str, length_scale: float, noise: float) -> np.ndarray:
        key = hashlib.sha256(f"{text}|{length_scale:.3f}|{noise:.3f}".encode()).hexdigest()[:20]
        path = self.cache / f"{key}.npy"
        if path.is_file():
            return np.asarray(np.load(path), dtype=np.float32)
        if self._voice is None:
            from piper import PiperVoice

            from media.tts import default_voice_path
            self._voice = PiperVoice.load(default_voice_path())
        from piper.config import SynthesisConfig

        cfg = SynthesisConfig(length_scale=length_scale, noise_scale=noise, noise_w_scale=0.8)
        audio = np.concatenate([np.asarray(c.audio_float_array, dtype=np.float32)
                                for c in self._voice.synthesize(text, syn_config=cfg)])
        rate = int(self._voice.config.sample_rate)
        out = _resample(audio, rate, RATE)
        self.cache.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
        return out


def _resample(x: np.ndarray, src: float, dst: float) -> np.ndarray:
    frac = Fraction(dst / src).limit_denominator(1000)
    return np.asarray(signal.resample_poly(x, frac.numerator, frac.denominator), dtype=np.float32)


def _pitch(x: np.ndarray, factor: float) -> np.ndarray:
    """Higher (factor > 1) and a little faster, as a voice of another size."""
    return x if abs(factor - 1.0) < 1e-3 else _resample(x, RATE * factor, RATE)


def _read_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return np.zeros(0, np.float32)
        rs = av.AudioResampler(format="fltp", layout="mono", rate=RATE)
        parts = []
        for frame in c.decode(c.streams.audio[0]):
            for f in rs.resample(frame):
                parts.append(f.to_ndarray()[0])
        for f in rs.resample(None):
            parts.append(f.to_ndarray()[0])
    return np.concatenate(parts).astype(np.float32)


def _reverb(x: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0 / 0.35
    ir *= 0.35
    return np.asarray(signal.fftconvolve(x, ir)[: len(x)] / max(np.sqrt((ir ** 2).sum()), 1.0), dtype=np.float32)


def _music(n: int, rng: np.random.Generator) -> np.ndarray:
    """A soft chord bed: triads changing every few seconds, with a slow swell."""
    t = np.arange(n) / RATE
    out = np.zeros(n, np.float32)
    roots = [110.0 * 2 ** (k / 12) for k in (0, 3, 5, 7, 8, 10)]
    pos = 0
    while pos < n:
        seg = int(rng.uniform(3.0, 6.0) * RATE)
        root = roots[int(rng.integers(len(roots)))]
        tt = t[pos:pos + seg]
        env = np.minimum(1.0, np.minimum(tt - tt[0], tt[-1] - tt + 1e-3) / 0.4)
        for ratio in (1.0, 1.26, 1.5, 2.0):
            out[pos:pos + seg] += (np.sin(2 * np.pi * root * ratio * tt) * env / ratio).astype(np.float32)
        pos += seg
    return out * (0.7 + 0.3 * np.sin(2 * np.pi * t / 23.0)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def degrade(speech: np.ndarray, d: Degrade, rng: np.random.Generator) -> np.ndarray:
    x = _reverb(speech, d.rt60, rng)
    sos = signal.butter(4, [d.band[0], min(d.band[1], RATE / 2 - 100)], btype="band", fs=RATE, output="sos")
    x = signal.sosfilt(sos, x).astype(np.float32)
    active = np.abs(speech) > 1e-3
    ref = _rms(x[active]) if active.any() else 0.05
    music = _music(len(x), rng)
    x = x + music * (ref * 10 ** (d.music_db / 20) / max(_rms(music), 1e-9))
    noise = signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(len(x))).astype(np.float32)
    x = x + noise * (ref * 10 ** (-d.snr_db / 20) / max(_rms(noise), 1e-9))
    if d.hum > 0:
        t = np.arange(len(x)) / RATE
        x = x + (d.hum * (np.sin(2 * np.pi * 60 * t) + 0.5 * np.sin(2 * np.pi * 180 * t))).astype(np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 1.0
    return np.asarray(x * (0.7 / max(peak, 1e-6)), dtype=np.float32)


# ---------------------------------------------------------------- picture
def load_pool() -> list[np.ndarray]:
    pool = []
    for rel in FOOTAGE:
        frames = []
        with av.open(str(MEDIA / rel)) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            nxt = 0.0
            for fr in c.decode(st):
                if fr.time is None or fr.time + 1e-6 < nxt:
                    continue
                nxt += 1.0 / FPS
                w0, h0 = fr.width, fr.height
                scale = min(W / w0, H / h0)
                fw, fh = max(2, int(w0 * scale) // 2 * 2), max(2, int(h0 * scale) // 2 * 2)
                img = fr.to_ndarray(width=fw, height=fh, format="rgb24")
                canvas = np.zeros((H, W, 3), np.uint8)
                y, x = (H - fh) // 2, (W - fw) // 2
                canvas[y:y + fh, x:x + fw] = img
                frames.append(canvas)
        pool.append(np.stack(frames))
    return pool


def _variant(img: np.ndarray, v: int) -> np.ndarray:
    if v & 1:
        img = img[:, ::-1]
    if v & 2:  # zoom 1.25x on the centre
        h, w = img.shape[:2]
        c = img[h // 10: h - h // 10, w // 10: w - w // 10]
        yi = (np.arange(h) * c.shape[0] / h).astype(int)
        xi = (np.arange(w) * c.shape[1] / w).astype(int)
        img = c[yi][:, xi]
    return np.ascontiguousarray(img)


def plan_shots(boundaries: list[float], total: float, pool: list[np.ndarray], rng: np.random.Generator
               ) -> list[dict[str, Any]]:
    """3-8 s shots; a cut at every boundary; consecutive shots from different sources."""
    cuts = sorted({0.0, total, *[b for b in boundaries if 0 < b < total]})
    shots: list[dict[str, Any]] = []
    last = -1
    for a, b in itertools.pairwise(cuts):
        t = a
        while t < b - 1e-6:
            length = float(rng.uniform(3.0, 8.0))
            end = b if b - (t + length) < 2.0 else t + length
            src = int(rng.integers(len(pool)))
            while src == last:
                src = int(rng.integers(len(pool)))
            n_need = math.ceil((end - t) * FPS) + 1
            avail = len(pool[src])
            start_f = int(rng.integers(0, max(1, avail - n_need)))
            shots.append({"start": round(t, 3), "end": round(end, 3), "source": FOOTAGE[src],
                          "source_start": round(start_f / FPS, 3), "variant": int(rng.integers(4)),
                          "_src": src, "_f": start_f})
            last = src
            t = end
    return shots


def encode(path: Path, audio: np.ndarray, shots: list[dict[str, Any]], pool: list[np.ndarray], total: float) -> None:
    n_frames = round(total * FPS)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"crf": "28", "preset": "veryfast", "g": "48"}
        as_ = out.add_stream("aac", rate=RATE)
        as_.layout = "mono"
        k = 0
        for i in range(n_frames):
            t = i / FPS
            while k + 1 < len(shots) and t >= shots[k]["end"] - 1e-6:
                k += 1
            sh = shots[k]
            frames = pool[sh["_src"]]
            idx = min(sh["_f"] + int((t - sh["start"]) * FPS), len(frames) - 1)
            img = _variant(frames[idx], sh["variant"])
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        step = 1024
        pcm = audio.astype(np.float32)
        for i in range(0, len(pcm), step):
            chunk = pcm[i:i + step]
            if len(chunk) < step:
                chunk = np.pad(chunk, (0, step - len(chunk)))
            fr = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            fr.sample_rate = RATE
            fr.pts = i
            for p in as_.encode(fr):
                out.mux(p)
        for p in as_.encode():
            out.mux(p)


# ---------------------------------------------------------------- layout
def _layout_scene(kind: str, lines: list[np.ndarray], rng: np.random.Generator) -> tuple[float, list[float]]:
    """Scene duration and each line's start (seconds from the scene start)."""
    durs = [len(x) / RATE for x in lines]
    if kind == "silent":
        return float(rng.uniform(12.0, 20.0)), []
    if kind == "one":
        total = max(float(rng.uniform(7.0, 11.0)), durs[0] + 2.0)
        return total, [float(rng.uniform(1.0, total - durs[0] - 1.0))]
    if kind == "sparse":
        total = max(8.0, durs[0] + 3.0)
        return total, [float(rng.uniform(1.5, total - durs[0] - 1.0))]
    if kind == "long":
        total = float(rng.uniform(55.0, 65.0))
        slots = np.linspace(3.0, total - 3.0 - max(durs), len(lines))
        return total, [float(s + rng.uniform(-1.0, 1.0)) for s in slots]
    t, starts = float(rng.uniform(0.4, 1.2)), []
    for d in durs:
        starts.append(t)
        t += d + float(rng.uniform(0.3, 0.9))
    return t + float(rng.uniform(0.3, 1.2)), starts


def build_case(spec: CaseSpec, out_dir: Path, tts: Tts, pool: list[np.ndarray]) -> dict[str, Any]:
    rng = np.random.default_rng(spec.seed)
    story: list[Scene] = list(STORIES[spec.story])
    scenes: list[tuple[str, list[tuple[str, str]], str | None, str | None]] = [(k, ln, b, None) for k, ln, b in story]
    for pos, key, described in sorted(spec.reals, reverse=True):
        f, text, beat = REAL[key]
        scenes.insert(pos, ("real", [("REAL", text)], beat if described else None, f))
    speakers = sorted({s for _, ln, _, _ in scenes for s, _ in ln if s != "REAL"})
    voices = spec.voices or _voice_table(rng, speakers)
    prof = PROFILES[spec.profile]
    pieces: list[np.ndarray] = []
    speech_mask: list[np.ndarray] = []
    truth_scenes, beats, t = [], [], float(rng.uniform(1.0, 2.0))
    pieces.append(np.zeros(int(t * RATE), np.float32))
    for kind, lines, beat, real_file in scenes:
        if kind == "real":
            assert real_file is not None
            audio = [_read_audio(MEDIA / real_file)]
            dur, starts = len(audio[0]) / RATE + 1.0, [0.5]
        else:
            audio = []
            for who, text in lines:
                ls, pitch = voices[who]
                x = _pitch(tts.line(text, round(ls * pitch, 2), 0.667), pitch)
                audio.append(x * 10 ** (rng.uniform(-prof.level_db, prof.level_db) / 20))
            dur, starts = _layout_scene(kind, audio, rng)
        n = round(dur * RATE)
        buf = np.zeros(n, np.float32)
        for a, s in zip(audio, starts, strict=True):
            i = int(s * RATE)
            a = a[: max(0, n - i)]
            buf[i:i + len(a)] += a
        pieces.append(buf)
        rec = {"start": round(t, 3), "end": round(t + dur, 3), "kind": kind,
               "text": " ".join(tx for _, tx in lines), "beat": None, "real": real_file,
               "lines": [{"start": round(t + s, 3), "end": round(t + s + len(a) / RATE, 3), "text": tx}
                         for (_, tx), a, s in zip(lines, audio, starts, strict=True)]}
        if beat is not None:
            rec["beat"] = len(beats)
            beats.append({"index": len(beats), "start": rec["start"], "end": rec["end"], "text": beat, "kind": kind})
        truth_scenes.append(rec)
        t += dur
        gap = float(rng.uniform(0.5, 2.0))
        pieces.append(np.zeros(int(gap * RATE), np.float32))
        t += gap
    raw = np.concatenate(pieces)
    total = math.floor(len(raw) / RATE * FPS) / FPS
    raw = raw[: int(total * RATE)]
    del speech_mask
    audio = degrade(raw, prof, rng)
    boundaries = [s["start"] for s in truth_scenes] + [s["end"] for s in truth_scenes]
    shots = plan_shots(boundaries, total, pool, rng)
    case_dir = out_dir / spec.name
    case_dir.mkdir(parents=True, exist_ok=True)
    encode(case_dir / "movie.mp4", audio, shots, pool, total)
    title = {"A": "Recap: the dry creek", "B": "Recap: Kestrel station", "C": "Recap: the fourth copy"}[spec.story]
    script = f"# {title}\n\n" + "\n\n".join(b["text"] for b in beats) + "\n"
    (case_dir / "script.md").write_text(script, encoding="utf-8")
    truth = {"version": 1, "case": spec.name, "split": spec.split, "profile": spec.profile, "story": spec.story,
             "movie": "movie.mp4", "script": "script.md", "duration": round(total, 3), "fps": FPS,
             "width": W, "height": H, "seed": spec.seed, "beats": beats, "scenes": truth_scenes,
             "skipped": [s for s in truth_scenes if s["beat"] is None],
             "voices": {k: list(v) for k, v in voices.items()},
             "shots": [{k: v for k, v in s.items() if not k.startswith("_")} for s in shots]}
    (case_dir / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args(argv)
    tts = Tts(args.out / "cache" / "tts")
    pool = load_pool()
    for spec in CASES:
        if args.only and spec.name not in args.only:
            continue
        truth = build_case(spec, args.out, tts, pool)
        print(f"{spec.name}: {truth['duration']:.1f} s, {len(truth['beats'])} beats, "
              f"{len(truth['skipped'])} distractors", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
