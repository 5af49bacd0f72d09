"""assemble: the edit decision list, the frame-accurate cut (smart render) and the narration mix.

Uses the user's alignment edit when there is one. Writes ``program.mp4`` (the cut),
``mix.wav`` (narration over ducked source audio, loudness-normalised), ``edl.json``,
``alignment.json`` (what was cut) and ``mix.json`` (measured loudness).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from app.models import Stage
from media.render import RenderOptions, assemble_program, make_edl, mix_program
from media.types import Alignment
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import read_json, write_json
from runners.stages._sources import load_narrations, load_sources

VERSION = "assemble-v1"


def render_options(options: dict[str, Any]) -> RenderOptions:
    return RenderOptions(profile=str(options.get("profile", "720p")), tts=True,
                         burn_captions=bool(options.get("burn_captions")), title=options.get("title"),
                         words_per_minute=float(options.get("words_per_minute", 160)))


async def _alignment(sc: StageContext) -> Alignment:
    edit = sc.options.get("alignment_edit")
    if edit:
        return Alignment.from_json(edit)
    return Alignment.from_json(read_json(await sc.upstream(Stage.ALIGN) / "alignment.json"))


async def input_hash(sc: StageContext) -> str | None:
    edit = sc.options.get("alignment_edit")
    edit_hash = hashlib.sha256(json.dumps(edit, sort_keys=True).encode()).hexdigest() if edit else None
    parts = [(await sc.upstream_artifact(s)).content_hash for s in (Stage.ALIGN, Stage.SCRIPT, Stage.INGEST)]
    return hash_inputs(VERSION, parts, edit_hash, sc.options.get("profile", "720p"))


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    sources = await load_sources(sc)
    narrations = await load_narrations(sc)
    alignment = await _alignment(sc)
    options = render_options(sc.options)
    edl = await sc.in_thread(make_edl, alignment, sources, narrations, options)

    def progress(stage: str, f: float) -> None:
        sc.progress(0.8 * f if stage == "assemble" else 0.8 + 0.2 * f)

    result = await sc.in_thread(assemble_program, edl, out / "program.mp4", progress, sc.cancelled)
    mixed = await sc.in_thread(mix_program, edl, out / "program.mp4", narrations, out / "mix.wav", options,
                               progress, sc.cancelled)
    write_json(out / "edl.json", edl.to_json())
    write_json(out / "alignment.json", alignment.to_json())
    mode = str(getattr(result, "mode", ""))
    write_json(out / "mix.json", {"integrated_lufs": mixed.integrated_lufs, "true_peak_dbtp": mixed.true_peak_dbtp,
                                  "assemble_mode": mode})
    return {"duration": edl.duration, "assemble_mode": mode, "lufs": mixed.integrated_lufs}
