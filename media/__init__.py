"""Recap's pure media library: probe, one-pass decode, shots, speech, script, align, edit list,
smart-render assembly, mix, captions, chapters, thumbnails, TTS, NLE export and the whole render.

It imports no application code; every function takes plain values and paths and returns frozen
dataclasses. Names load lazily (PEP 562), so ``import media`` stays fast and a model library is
only imported by the call that needs it::

    from media import probe, analyse_video, align
    info = probe("movie.mp4")
    print(info.duration, info.video.fps)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from media.errors import MediaError
from media.types import (
    Alignment,
    Beat,
    BeatAlignment,
    Chapter,
    Clip,
    Script,
    Segment,
    Shot,
    SourceRef,
    Transcript,
    Word,
)

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(("MediaInfo", "VideoInfo", "AudioInfo", "probe"), "media.probe"),
    **dict.fromkeys(("DecodeOptions", "FrameConsumer", "decode_frames"), "media.decode"),
    **dict.fromkeys(("ShotOptions", "detect_shots"), "media.shots"),
    **dict.fromkeys(("FrameReport",), "media.frames"),
    **dict.fromkeys(("AnalysisOptions", "VideoAnalysis", "analyse_video"), "media.analysis"),
    **dict.fromkeys(("Transcriber", "TranscribeOptions", "FasterWhisperTranscriber", "default_whisper_model_dir",
                     "extract_audio"), "media.speech"),
    **dict.fromkeys(("WhisperTimestampedTranscriber",), "media.whisper_ts"),
    **dict.fromkeys(("BeatSpan", "load_script", "parse_script", "read_subtitles", "time_beats_from_narration"),
                    "media.script"),
    **dict.fromkeys(("Embedder",), "media.embed"),
    **dict.fromkeys(("AlignOptions", "AlignSource", "align"), "media.align"),
    **dict.fromkeys(("EditList", "EdlClip", "EdlOptions", "BeatSlot", "SourceInfo", "build_edl", "validate_edl"),
                    "media.edl"),
    **dict.fromkeys(("AssembleOptions", "AssembleResult", "assemble"), "media.assemble"),
    **dict.fromkeys(("Narrator", "Narration", "BeatNarration", "PiperNarrator", "narrate_script",
                     "split_recorded_narration"), "media.tts"),
    **dict.fromkeys(("MixOptions", "MixResult", "NarrationPlacement", "mix", "integrated_loudness", "true_peak_dbtp"),
                    "media.audio"),
    **dict.fromkeys(("CaptionOptions", "Cue", "build_cues", "write_captions"), "media.captions"),
    **dict.fromkeys(("build_chapters", "write_chapters"), "media.chapters"),
    **dict.fromkeys(("FinishOptions", "finish"), "media.finish"),
    **dict.fromkeys(("pick_thumbnail",), "media.thumbnails"),
    **dict.fromkeys(("edl_to_timeline", "export_timeline", "read_timeline"), "media.export"),
    **dict.fromkeys(("RenderOptions", "RenderResult", "render"), "media.render"),
    **dict.fromkeys(("build_sample_film",), "media.samplefilm"),
}

__all__ = [
    "AlignOptions", "AlignSource", "Alignment", "AnalysisOptions", "AssembleOptions", "AssembleResult",
    "AudioInfo", "Beat", "BeatAlignment", "BeatNarration", "BeatSlot", "BeatSpan", "CaptionOptions", "Chapter",
    "Clip", "Cue", "DecodeOptions", "EditList", "EdlClip", "EdlOptions", "Embedder", "FasterWhisperTranscriber",
    "FinishOptions", "FrameConsumer", "FrameReport", "MediaError", "MediaInfo", "MixOptions", "MixResult",
    "Narration", "NarrationPlacement", "Narrator", "PiperNarrator", "RenderOptions", "RenderResult", "Script",
    "Segment", "Shot", "ShotOptions", "SourceInfo", "SourceRef", "TranscribeOptions", "Transcriber", "Transcript",
    "VideoAnalysis", "VideoInfo", "WhisperTimestampedTranscriber", "Word", "align", "analyse_video", "assemble",
    "build_chapters", "build_cues", "build_edl", "build_sample_film", "decode_frames", "default_whisper_model_dir",
    "detect_shots", "edl_to_timeline", "export_timeline", "extract_audio", "finish", "integrated_loudness",
    "load_script", "mix", "narrate_script", "parse_script", "pick_thumbnail", "probe", "read_subtitles",
    "read_timeline", "render", "split_recorded_narration", "time_beats_from_narration", "true_peak_dbtp",
    "validate_edl", "write_captions", "write_chapters",
]


# the lazy table must list exactly the names above that are not imported eagerly
assert set(__all__) == {"Alignment", "Beat", "BeatAlignment", "Chapter", "Clip", "MediaError", "Script", "Segment",
                        "Shot", "SourceRef", "Transcript", "Word", *_LAZY}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'media' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

