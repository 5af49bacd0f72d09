"""Recap's pure media library: probe, decode, shots, speech, script, align, assemble.

It imports no application code; every function takes plain values and paths.

    from media import probe
    info = probe("movie.mp4")
    print(info.duration)
"""

from media.errors import MediaError
from media.types import Alignment, Beat, BeatAlignment, Chapter, Clip, Script, Segment, Shot, SourceRef, Transcript, Word

__all__ = [
    "Alignment", "Beat", "BeatAlignment", "Chapter", "Clip", "MediaError", "Script", "Segment", "Shot",
    "SourceRef", "Transcript", "Word",
]
