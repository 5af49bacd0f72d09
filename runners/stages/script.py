"""script: parse the recap script into chapters and beats with target durations.

With recorded narration, the narration is transcribed and its words aligned to the beats,
so each beat's real spoken duration becomes its target. Writes ``script.json`` and, with
narration, ``narration.json`` (per-beat spans in the narration audio).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from app.models import AssetKind
from media.script import parse_script, time_beats_from_narration
from runners.artifacts import hash_inputs
from runners.context import StageContext, StageInputError
from runners.stages._io import write_json

VERSION = "script-v1"
MAX_SCRIPT_BYTES = 2 * 1024 * 1024


async def _script_text(sc: StageContext) -> str:
    text = sc.options.get("script_text")
    if isinstance(text, str) and text.strip():
        return text
    asset_id = sc.options.get("script_asset_id")
    asset = await sc.asset(str(asset_id)) if asset_id else None
    if asset is None:
        scripts = await sc.assets(AssetKind.SCRIPT)
        asset = scripts[-1] if scripts else None
    if asset is None:
        raise StageInputError("NO_SCRIPT", "the project has no script (upload one or pass scriptText)")
    path = await sc.local_asset(asset)
    raw = path.read_bytes()[: MAX_SCRIPT_BYTES + 1]
    return raw.decode("utf-8", errors="replace") if b"\x00" not in raw else raw.decode("latin-1")


async def _narration(sc: StageContext) -> Any:
    if sc.options.get("narration") != "recorded":
        return None
    asset_id = sc.options.get("narration_asset_id")
    asset = await sc.asset(str(asset_id)) if asset_id else None
    if asset is None:
        found = await sc.assets(AssetKind.NARRATION_AUDIO)
        asset = found[-1] if found else None
    if asset is None:
        raise StageInputError("NO_NARRATION", "recorded narration was chosen but none was uploaded")
    return asset


async def input_hash(sc: StageContext) -> str | None:
    text = await _script_text(sc)
    narration = await _narration(sc)
    return hash_inputs(VERSION, hashlib.sha256(text.encode()).hexdigest(),
                       narration.sha256 if narration else None, sc.options.get("words_per_minute", 160))


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    text = await _script_text(sc)
    wpm = float(sc.options.get("words_per_minute", 160))
    script = await sc.in_thread(parse_script, text, words_per_minute=wpm)
    narration = await _narration(sc)
    if narration is not None:
        path = await sc.local_asset(narration)
        transcriber = await sc.in_thread(sc.models.transcriber)
        transcript = await sc.in_thread(transcriber.transcribe, path, progress=sc.progress, cancel=sc.cancelled)
        script, spans = await sc.in_thread(time_beats_from_narration, script, transcript)
        write_json(out / "narration.json", {"asset_id": str(narration.id), "spans": [s.to_json() for s in spans]})
    write_json(out / "script.json", script.to_json())
    return {"beats": len(script.beats), "chapters": len(script.chapters)}
