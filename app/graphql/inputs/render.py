"""Inputs of the render domain: render options and alignment edits."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON


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
    upscale: bool = strawberry.field(default=False, description="4K Real-ESRGAN pass (needs a GPU worker).")
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
