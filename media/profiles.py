"""Output profiles: what the assembler encodes to when it must re-encode.

``source`` keeps the source's own codec, size and rate (the packet-copy path);
``1080p`` and ``720p`` are H.264 + AAC at a fixed frame height::

    profile = get_profile("720p")
    print(profile.height, profile.preset, profile.crf)
    assert get_profile("source").is_source
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from media.errors import InputError


class UnknownProfileError(InputError):
    code = "PROFILE_UNKNOWN"


@dataclass(frozen=True, slots=True)
class OutputProfile:
    """Encoding settings. The frame fits a ``width`` x ``height`` box (0 x 0: the source's size);
    ``fps`` 0 means "the source's rate"."""

    name: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 20
    gop_seconds: float = 2.0
    pix_fmt: str = "yuv420p"
    audio_codec: str = "aac"
    audio_bitrate: int = 160_000
    sample_rate: int = 48_000
    channels: int = 2

    def __post_init__(self) -> None:
        if self.height < 0 or self.height % 2 or self.width < 0 or self.width % 2:
            raise ValueError("width and height must be 0 (source) or positive even numbers")
        if not 0 <= self.crf <= 51:
            raise ValueError("crf must be in [0, 51]")
        if self.gop_seconds <= 0:
            raise ValueError("gop_seconds must be positive")
        if self.channels not in (1, 2):
            raise ValueError("channels must be 1 or 2")

    @property
    def is_source(self) -> bool:
        return self.height == 0

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """Output size for a ``width`` x ``height`` source: as large as fits the box, keeping the aspect."""
        if self.is_source:
            return width - width % 2, height - height % 2
        scale = min(self.width / width, self.height / height)
        return min(self.width, round(width * scale / 2) * 2), min(self.height, round(height * scale / 2) * 2)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, OutputProfile] = {
    "source": OutputProfile("source", crf=18),
    "2160p": OutputProfile("2160p", width=3840, height=2160, crf=18, audio_bitrate=192_000),  # the upscaled recap
    "1080p": OutputProfile("1080p", width=1920, height=1080, crf=20, audio_bitrate=192_000),
    "720p": OutputProfile("720p", width=1280, height=720, crf=21, audio_bitrate=160_000),
}


def get_profile(name: str) -> OutputProfile:
    """The profile called ``name``.

    Raises:
        UnknownProfileError: no such profile (code PROFILE_UNKNOWN).
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(f"unknown output profile {name!r}; use one of {sorted(PROFILES)}") from None
