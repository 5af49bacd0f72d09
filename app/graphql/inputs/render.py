"""Inputs of the render domain: render options and alignment edits."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON


@strawberry.enum(description="What the upscaled recap is sized to.")
class UpscaleTarget(Enum):
    UHD_4K = "UHD_4K"
    NATIVE = "NATIVE"


@strawberry.input(description="The 4K Real-ESRGAN pass (accepted only while a GPU worker is online).")
class UpscaleInput:
    model: str = strawberry.field(default="realesr-animevideov3", description=(
        "realesr-animevideov3, realesr-general-x4v3, RealESRGAN_x4plus or RealESRGAN_x4plus_anime_6B."))
    target: UpscaleTarget = strawberry.field(default=UpscaleTarget.UHD_4K, description=(
        "UHD_4K: fit inside 3840x2160 keeping the aspect ratio; NATIVE: the model's x4."))
    tile: int = strawberry.field(default=0, description="Tile side in pixels; 0 = from the GPU's free memory.")
    chunk_seconds: float = strawberry.field(default=10.0, description="Checkpoint granularity (cut at keyframes).")


@strawberry.input(description="How to render. Every field is optional.")
class RenderOptionsInput:
    profile: str = strawberry.field(default="720p", description="1080p, 720p or source (copy path).")
    narration: str = strawberry.field(default="tts", description="tts, recorded or none.")
    narration_asset_id: strawberry.ID | None = None
    script_asset_id: strawberry.ID | None = strawberry.field(
        default=None, description="Default: the project's newest script asset.")
    script_text: str | None = strawberry.field(default=None, description="The script itself, instead of an asset.")
    source_asset_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Sources in order (episodes); default: every ready source video by upload time.")
    upscale: UpscaleInput | None = strawberry.field(default=None, description=(
        "4K Real-ESRGAN pass; null = none. Refused (UPSCALE_UNAVAILABLE) while no GPU worker is online."))
    burn_captions: bool = False
    review: bool = strawberry.field(default=False, description="Stop after alignment until approveAlignment.")
    title: str | None = None
    words_per_minute: float = 160.0


@strawberry.input(description="New clips for one beat of an alignment, or one of its alternatives.")
class BeatEditInput:
    index: int
    clips: JSON | None = strawberry.field(default=None,
                                          description='[{"source": "s0", "start": 12.0, "end": 16.5}, ...]')
    alternative: int | None = strawberry.field(default=None, description="Pick the beat's alternative at "
                                               "this position (0 = best) instead of giving clips.")
