"""Rebuild the media library's per-source analysis from the ingest/analyse/transcribe artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.models import Stage
from media.render import SourceAnalysis
from media.tts import BeatNarration
from media.types import Shot, Transcript
from runners.context import StageContext
from runners.stages._io import read_json


async def load_sources(sc: StageContext, *, with_transcripts: bool = False) -> list[SourceAnalysis]:
    ingest = read_json(await sc.upstream(Stage.INGEST) / "sources.json")
    shots_dir = await sc.upstream(Stage.ANALYSE)
    words_dir = await sc.upstream(Stage.TRANSCRIBE) if with_transcripts else None
    assets = {str(a.id): a for a in await sc.source_assets()}
    out = []
    for src in ingest:
        path = await sc.local_asset(assets[src["asset_id"]])
        shots = tuple(Shot.from_json(s) for s in read_json(shots_dir / f"{src['id']}.shots.json"))
        transcript = None
        if words_dir is not None:
            transcript = Transcript.from_json(read_json(words_dir / f"{src['id']}.transcript.json"))
        fps = float((src["probe"].get("video") or {}).get("fps") or 25.0)
        out.append(SourceAnalysis(src["id"], path, float(src["duration"]), fps, shots, transcript))
    return out


async def load_narrations(sc: StageContext) -> list[BeatNarration]:
    folder = await sc.upstream(Stage.SCRIPT)
    items: list[dict[str, Any]] = read_json(folder / "narration.json")
    return [BeatNarration.from_json({"beat": n["beat"], "narration": {
        **n["narration"], "path": str(Path(folder) / n["narration"]["path"])}}) for n in items]
