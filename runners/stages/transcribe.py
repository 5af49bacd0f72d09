"""transcribe: word-timestamped transcript of each source's proxy audio (parallel with analyse).

Writes ``s{i}.transcript.json`` (an empty transcript for a source without audio).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.models import Stage
from media.types import Transcript
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json

VERSION = "transcribe-v1"


async def input_hash(sc: StageContext) -> str | None:
    ingest = await sc.upstream_artifact(Stage.INGEST)
    return hash_inputs(VERSION, ingest.content_hash, sc.models.whisper_id)


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    folder = await sc.upstream(Stage.INGEST)
    sources = read_json(folder / "sources.json")
    transcriber = await sc.in_thread(sc.models.transcriber)
    words = 0
    for i, src in enumerate(sources):
        if src.get("audio"):

            def part(f: float, i: int = i) -> None:
                sc.progress((i + f) / len(sources))

            transcript = await sc.in_thread(transcriber.transcribe, folder / src["audio"], progress=part,
                                            cancel=sc.cancelled)
        else:
            transcript = Transcript(language="", duration=float(src["duration"]))
        words += len(transcript.words)
        write_json(out / f"{src['id']}.transcript.json", transcript.to_json())
    return {"words": words}
