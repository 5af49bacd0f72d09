"""Export the edit as an editor's timeline: OpenTimelineIO (``timeline.otio``), CMX 3600 EDL, FCP 7 XML.

Video clips reference the source files (ExternalReference, file URLs) with their ranges in source
frames at the source's own rate; the narration is a second (audio) track::

    timeline = edl_to_timeline(edl, name="My recap")
    paths = export_timeline(timeline, Path("out"), formats=("otio", "edl", "xml"))
    print(paths["otio"])

The CMX 3600 and FCP XML writers are OTIO adapter plugins (``otio-cmx3600-adapter``,
``otio-fcp-adapter``); a format whose adapter is not installed raises ExportError (EXPORT_UNAVAILABLE).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import opentimelineio as otio

from media.captions import clean_text
from media.edl import EditList, EdlClip
from media.errors import MediaError, OutputError

__all__ = ["FORMATS", "ExportError", "edl_to_timeline", "export_timeline", "read_timeline"]

#: format name -> (file name, OTIO adapter)
FORMATS: dict[str, tuple[str, str]] = {
    "otio": ("timeline.otio", "otio_json"),
    "edl": ("timeline.edl", "cmx_3600"),
    "xml": ("timeline.xml", "fcp_xml"),
}


class ExportError(MediaError):
    code = "EXPORT_UNAVAILABLE"


def _rt(seconds: float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def _range(start: float, duration: float, rate: float) -> otio.opentime.TimeRange:
    first = round(start * rate)
    return otio.opentime.TimeRange(otio.opentime.RationalTime(first, rate),
                                   otio.opentime.RationalTime(round((start + duration) * rate) - first, rate))


def _reference(path: str, duration: float, rate: float) -> otio.schema.ExternalReference:
    ref = otio.schema.ExternalReference(target_url=otio.url_utils.url_from_filepath(os.path.abspath(path)))
    ref.available_range = _range(0.0, duration, rate)
    return ref


def _video_clip(clip: EdlClip, edl: EditList, index: int) -> otio.schema.Clip:
    src = edl.source(clip.source)
    name = f"{Path(clip.path).stem[:40]} b{clip.beat} #{index}"
    item = otio.schema.Clip(name=name, media_reference=_reference(clip.path, src.duration, src.fps),
                            source_range=_range(clip.src_in, clip.src_out - clip.src_in, src.fps))
    item.metadata["recap"] = {"beat": clip.beat, "source": clip.source, "keep_source_audio": clip.keep_source_audio}
    if abs(clip.speed - 1.0) > 1e-6:
        item.effects.append(otio.schema.LinearTimeWarp(time_scalar=clip.speed))
    return item


def _fill_to(track: otio.schema.Track, at: float, rate: float) -> None:
    """Pad the track with a gap up to ``at`` seconds."""
    end = track.duration().rescaled_to(rate).value if len(track) else 0.0
    frames = round(at * rate) - round(end)
    if frames > 0:
        track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate))))


def edl_to_timeline(edl: EditList, name: str = "Recap") -> otio.schema.Timeline:
    """The edit list as an OTIO timeline (rate: the first source's frame rate)."""
    rate = edl.sources[0].fps if edl.sources else 24.0
    timeline = otio.schema.Timeline(name=clean_text(name)[:120] or "Recap",
                                     global_start_time=otio.opentime.RationalTime(0, rate))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for i, clip in enumerate(sorted(edl.clips, key=lambda c: c.timeline_start)):
        _fill_to(video, clip.timeline_start, rate)
        video.append(_video_clip(clip, edl, i))
    timeline.tracks.append(video)
    narration = otio.schema.Track(name="A1 narration", kind=otio.schema.TrackKind.Audio)
    for slot in edl.slots:
        span = slot.narration
        if span is None:
            continue
        _fill_to(narration, slot.start, rate)
        narration.append(otio.schema.Clip(name=f"narration b{slot.beat}",
                                          media_reference=_reference(span.path, span.end, rate),
                                          source_range=_range(span.start, span.duration, rate)))
    if len(narration):
        timeline.tracks.append(narration)
    return timeline


def _video_only(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """CMX 3600 holds one video track cleanly; audio events from file-based narration confuse its readers."""
    copy: Any = timeline.deepcopy()
    for track in list(copy.tracks):
        if track.kind != otio.schema.TrackKind.Video:
            copy.tracks.remove(track)
    return copy  # type: ignore[no-any-return]


def export_timeline(timeline: otio.schema.Timeline, out_dir: Path,
                    formats: Sequence[str] = ("otio", "edl", "xml")) -> dict[str, Path]:
    """Write the timeline in each format (atomically); returns format -> path.

    Raises:
        ValueError: an unknown format. ExportError: its adapter is not installed. OutputError: cannot write.
    """
    written: dict[str, Path] = {}
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; choose from {sorted(FORMATS)}")
        filename, adapter = FORMATS[fmt]
        if adapter not in otio.adapters.available_adapter_names():
            raise ExportError(f"the OTIO adapter {adapter!r} is not installed (pip install otio-{fmt}-adapter)")
        path = out_dir / filename
        tmp = out_dir / f".{filename}.part"
        data = _video_only(timeline) if fmt == "edl" else timeline
        try:
            otio.adapters.write_to_file(data, str(tmp), adapter_name=adapter)
            tmp.replace(path)
        except OSError as ex:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write {filename}: {ex.strerror or ex}") from ex
        except Exception as ex:  # adapters raise their own exception types
            tmp.unlink(missing_ok=True)
            raise ExportError(f"the {fmt} export failed: {ex}", code="EXPORT_FAILED") from ex
        written[fmt] = path
    return written


def read_timeline(path: Path, rate: float | None = None) -> otio.schema.Timeline:
    """Read an exported timeline back (``rate`` is needed for CMX 3600 files)."""
    suffix = path.suffix.lower()
    adapter = {".otio": "otio_json", ".edl": "cmx_3600", ".xml": "fcp_xml"}.get(suffix)
    if adapter is None:
        raise ValueError(f"unknown timeline file type {suffix!r}")
    kwargs: dict[str, Any] = {"rate": rate} if adapter == "cmx_3600" and rate else {}
    result: Any = otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    return result  # type: ignore[no-any-return]
