"""Visual analysis of one source in ONE decode pass: probe, shots and frame statistics.

    from media.analysis import analyse_video
    result = analyse_video("movie.mp4", progress=lambda f: print(f"{f:.0%}"))
    result.write("out/")            # probe.json, shots.json, frames.json

The decoder scales every frame once to the analysis size and hands it to the shot
detector and the frame-statistics consumer (see :mod:`media.decode`). Video-only
sources work; audio-only sources are refused with ``NO_VIDEO_STREAM``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from media.decode import DecodeOptions, DecodeResult, FrameConsumer, decode_frames
from media.errors import OutputError
from media.frames import FrameReport, FrameStatsConsumer, FrameStatsOptions
from media.moderation import OverlayOptions, OverlayReport, detect_overlays, new_overlay_scan
from media.probe import MediaInfo, probe
from media.shots import ShotConsumer, ShotOptions
from media.types import JSON, CancelFn, ProgressFn, Shot

__all__ = ["AnalysisOptions", "VideoAnalysis", "analyse_video"]


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """What one pass computes; ``frame_stats=False`` skips thumbnails and the logo scan,
    ``overlays=None`` the static-overlay (watermark) scan of :mod:`media.moderation`."""

    shots: ShotOptions = field(default_factory=ShotOptions)
    frames: FrameStatsOptions = field(default_factory=FrameStatsOptions)
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    frame_stats: bool = True
    overlays: OverlayOptions | None = field(default_factory=OverlayOptions)


@dataclass(frozen=True, slots=True)
class VideoAnalysis:
    """The probe, the shots (contiguous, covering the video) and the frame report of one source."""

    probe: MediaInfo
    shots: tuple[Shot, ...]
    frames: FrameReport | None
    decoded_frames: int = 0
    overlays: OverlayReport | None = None

    def shots_json(self) -> JSON:
        """``shots.json``: the shots with the timing facts needed to use them."""
        fps = self.probe.video.fps if self.probe.video else 0.0
        return {"version": 1, "source": self.probe.path, "fps": fps, "frames": self.decoded_frames,
                "shots": [s.to_json() for s in self.shots]}

    def to_json(self) -> JSON:
        return {"version": 1, "probe": self.probe.to_json(), "shots": self.shots_json(),
                "frames": None if self.frames is None else self.frames.to_json(),
                "overlays": None if self.overlays is None else self.overlays.to_json()}

    @classmethod
    def from_json(cls, data: JSON) -> VideoAnalysis:
        shots = data.get("shots", {})
        frames, overlays = data.get("frames"), data.get("overlays")
        return cls(MediaInfo.from_json(data["probe"]), tuple(Shot.from_json(s) for s in shots.get("shots", [])),
                   None if frames is None else FrameReport.from_json(frames), int(shots.get("frames", 0)),
                   None if overlays is None else OverlayReport.from_json(overlays))

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``probe.json``, ``shots.json``, ``frames.json`` and ``overlays.json`` into ``out_dir``, all or none.

        Raises:
            OutputError: the folder or a file cannot be written (nothing new is left behind).
        """
        docs: dict[str, JSON] = {"probe": self.probe.to_json(), "shots": self.shots_json()}
        if self.frames is not None:
            docs["frames"] = self.frames.to_json()
        if self.overlays is not None:
            docs["overlays"] = self.overlays.to_json()
        return _write_all(Path(out_dir), docs)


def analyse_video(path: str | os.PathLike[str], options: AnalysisOptions | None = None,
                  progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> VideoAnalysis:
    """Probe ``path``, then decode it once feeding shot detection and frame statistics.

    Args:
        path: the source video (its name is not trusted; the content is probed).
        options: detector, sampling and decoding settings.
        progress: fractions in [0, 1]; reaches 1.0 when the result is ready.
        cancel: polled during decoding; returning True raises :class:`media.errors.CancelledError`.

    Returns:
        The :class:`VideoAnalysis`.

    Raises:
        The probe's validation errors (``NoVideoStreamError`` for audio-only input),
        ``DecodeError``, ``CancelledError``.
    """
    opts = options or AnalysisOptions()
    info = probe(path, require_video=True)
    assert info.video is not None
    shot_consumer = ShotConsumer(info.video.fps, opts.shots)
    stats = FrameStatsConsumer(opts.frames, rotation=info.video.rotation) if opts.frame_stats else None
    scan = None if opts.overlays is None else new_overlay_scan(opts.overlays, rotation=info.video.rotation)
    consumers: list[FrameConsumer] = [c for c in (shot_consumer, stats, scan) if c is not None]
    result: DecodeResult = decode_frames(path, consumers, opts.decode, progress=progress, cancel=cancel)
    shots = shot_consumer.shots
    overlays = None if scan is None or opts.overlays is None else detect_overlays(scan, info.duration, opts.overlays)
    return VideoAnalysis(probe=info, shots=tuple(shots), frames=None if stats is None else stats.report(shots),
                         decoded_frames=result.frames, overlays=overlays)


def _write_all(out_dir: Path, docs: dict[str, JSON]) -> dict[str, Path]:
    """Each document to a temporary file first, then renamed into place; on failure none is left."""
    temps: dict[str, Path] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, doc in docs.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".json.part", dir=out_dir)
            temps[name] = Path(tmp_name)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, separators=(",", ":"))
        final = {name: out_dir / f"{name}.json" for name in docs}
        for name, part in temps.items():
            os.replace(part, final[name])
        return final
    except OSError as ex:
        raise OutputError(f"cannot write the analysis to {out_dir.name}: {ex.strerror}") from ex
    finally:
        for part in temps.values():
            part.unlink(missing_ok=True)
