"""moderate: records the static overlay (watermark/logo) detection for review; detection only, never removal.

Reads the ``s{i}.overlays.json`` reports the analysis pass wrote and writes ``moderation.json``
(per source: regions with box, time ranges, opacity, confidence and the name of their PNG crop,
plus the share of the source that could be checked) and the crops as ``s{i}.r{k}.png``.
``status`` is ``detected`` when any region was found, ``clear`` when none was and every source
was checked, ``partly_checked`` otherwise (static footage carries no evidence).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from app.models import Stage
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json

VERSION = "moderate-v2"


async def input_hash(sc: StageContext) -> str | None:
    return hash_inputs(VERSION, (await sc.upstream_artifact(Stage.ANALYSE)).content_hash)


def _source_entry(sid: str, report: dict[str, Any], out: Path) -> dict[str, Any]:
    regions = []
    for k, region in enumerate(report.get("regions", [])):
        crop = f"{sid}.r{k}.png"
        (out / crop).write_bytes(base64.b64decode(region.get("crop_png", "")))
        regions.append({**{key: v for key, v in region.items() if key != "crop_png"}, "crop": crop})
    return {"source": sid, "regions": regions, "checked_share": float(report.get("checked_share", 0.0)),
            "checked": report.get("checked", [])}


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    folder = await sc.upstream(Stage.ANALYSE)
    sources = [_source_entry(path.name.split(".")[0], read_json(path), out)
               for path in sorted(folder.glob("*.overlays.json"))]
    regions = sum(len(s["regions"]) for s in sources)
    if regions:
        status = "detected"
    elif sources and all(s["checked_share"] >= 0.99 for s in sources):
        status = "clear"
    else:
        status = "partly_checked"
    write_json(out / "moderation.json", {"version": 2, "status": status, "sources": sources})
    return {"status": status, "regions": regions}
