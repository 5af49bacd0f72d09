"""upscale: 4K Real-ESRGAN pass, run by GPU workers pulling the ``gpu`` queue.

No GPU worker ships with this build (the GPU upscaler is its own piece of work); the API
refuses ``upscale: true`` unless ``RECAP_WORKER__GPU_ENABLED`` is set, and a GPU worker
that cannot upscale fails the stage with a clear code instead of pretending.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runners.context import StageContext, StageInputError


async def input_hash(sc: StageContext) -> str | None:
    return None


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    raise StageInputError("UPSCALE_UNAVAILABLE", "this worker has no Real-ESRGAN upscaler")
