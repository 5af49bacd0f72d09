"""align: match every beat to moments of the sources (embeddings + lexical cues + ordered DP).

Writes ``alignment.json`` (the contract in ARCHITECTURE.md). A user's edit made through
``updateAlignment`` is kept on the job and applied by the assemble stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.metrics import ALIGNMENT_CONFIDENCE
from app.models import Stage
from media.align import AlignSource, align
from media.types import Script
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json
from runners.stages._sources import load_sources

VERSION = "align-v1"


async def input_hash(sc: StageContext) -> str | None:
    parts = [(await sc.upstream_artifact(s)).content_hash for s in (Stage.ANALYSE, Stage.TRANSCRIBE, Stage.SCRIPT)]
    return hash_inputs(VERSION, parts)


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    sources = await load_sources(sc, with_transcripts=True)
    script = Script.from_json(read_json(await sc.upstream(Stage.SCRIPT) / "script.json"))
    refs = [AlignSource(s.id, s.path.name, s.duration, list(s.shots), s.transcript) for s in sources]
    embedder = await sc.in_thread(sc.models.embedder)
    alignment = await sc.in_thread(align, script, refs, embedder=embedder, progress=sc.progress,
                                   cancel=sc.cancelled)
    write_json(out / "alignment.json", alignment.to_json())
    low = sum(1 for b in alignment.beats if b.confidence < 0.3)
    for beat in alignment.beats:
        ALIGNMENT_CONFIDENCE.observe(beat.confidence)
    return {"beats": len(alignment.beats), "low_confidence_beats": low}
