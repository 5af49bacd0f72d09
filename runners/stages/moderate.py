"""moderate: records the static logo/watermark scan for review; detection only, never removal.

Until the moderation workflow exists this stage does not hold jobs: it writes
``moderation.json`` with status ``not_checked`` and the logo candidates the analysis saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.models import Stage
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json

VERSION = "moderate-v1"


async def input_hash(sc: StageContext) -> str | None:
    return hash_inputs(VERSION, (await sc.upstream_artifact(Stage.ANALYSE)).content_hash)


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    folder = await sc.upstream(Stage.ANALYSE)
    candidates: dict[str, Any] = {}
    for frames in sorted(folder.glob("*.frames.json")):
        report = read_json(frames)
        candidates[frames.name.split(".")[0]] = report.get("logos", report.get("logo_candidates", []))
    write_json(out / "moderation.json", {"status": "not_checked", "logo_candidates": candidates})
    return {"status": "not_checked"}
