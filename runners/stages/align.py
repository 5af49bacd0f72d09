"""align: match every beat to moments of the sources (embeddings + lexical cues + ordered DP).

Writes ``alignment.json`` (the contract in ARCHITECTURE.md). A user's edit made through
``updateAlignment`` is kept on the job and applied by the assemble stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.models import Stage
from media.align import AlignSource, align
from media.types import Script, Shot, Transcript
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json

VERSION = "align-v1"


async def input_hash(sc: StageContext) -> str | None:
    parts = [(await sc.upstream_artifact(s)).content_hash for s in (Stage.ANALYSE, Stage.TRANSCRIBE, Stage.SCRIPT)]
    return hash_inputs(VERSION, parts, sc.options.get("align", {}))


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    ingest = read_json(await sc.upstream(Stage.INGEST) / "sources.json")
    shots_dir = await sc.upstream(Stage.ANALYSE)
    words_dir = await sc.upstream(Stage.TRANSCRIBE)
    script = Script.from_json(read_json(await sc.upstream(Stage.SCRIPT) / "script.json"))
    sources = []
    for src in ingest:
        shots = [Shot.from_json(s) for s in read_json(shots_dir / f"{src['id']}.shots.json")]
        transcript = Transcript.from_json(read_json(words_dir / f"{src['id']}.transcript.json"))
        sources.append(AlignSource(id=src["id"], path=src["filename"], duration=float(src["duration"]),
                                   shots=shots, transcript=transcript))
    embedder = await sc.in_thread(sc.models.embedder)
    alignment = await sc.in_thread(align, script, sources, embedder=embedder, progress=sc.progress,
                                   cancel=sc.cancelled)
    write_json(out / "alignment.json", alignment.to_json())
    low = sum(1 for b in alignment.beats if b.confidence < 0.3)
    return {"beats": len(alignment.beats), "low_confidence_beats": low}
