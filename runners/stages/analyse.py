"""analyse: one decode pass per source feeding shot detection and frame statistics.

Writes ``s{i}.shots.json``, ``s{i}.frames.json`` and ``s{i}.overlays.json`` (static overlay regions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.models import Stage
from media.analysis import analyse_video
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json

VERSION = "analyse-v2"


async def input_hash(sc: StageContext) -> str | None:
    ingest = await sc.upstream_artifact(Stage.INGEST)
    return hash_inputs(VERSION, ingest.content_hash)


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    sources = read_json(await sc.upstream(Stage.INGEST) / "sources.json")
    assets = {str(a.id): a for a in await sc.source_assets()}
    for i, src in enumerate(sources):
        path = await sc.local_asset(assets[src["asset_id"]])

        def part(f: float, i: int = i) -> None:
            sc.progress((i + f) / len(sources))

        result = await sc.in_thread(analyse_video, path, progress=part, cancel=sc.cancelled)
        write_json(out / f"{src['id']}.shots.json", [s.to_json() for s in result.shots])
        write_json(out / f"{src['id']}.frames.json", result.frames.to_json() if result.frames else {})
        write_json(out / f"{src['id']}.overlays.json", result.overlays.to_json() if result.overlays else {})
    return {"sources": len(sources)}
