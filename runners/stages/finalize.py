"""finalize: title card, captions (optionally burned in), final mux, chapters, thumbnail, NLE timeline.

Writes ``final.mp4``, ``captions.srt``, ``captions.vtt``, ``chapters.txt``, ``thumbnail.jpg``,
``edl.json``, ``alignment.json``, ``timeline.otio`` (+ ``timeline.edl``/``timeline.xml``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from app.models import Stage
from media.edl import EditList
from media.render import finish_program, program_cues, write_side_files
from media.thumbnails import pick_thumbnail
from media.types import Alignment, Script
from runners.artifacts import hash_inputs
from runners.context import StageContext, StageInputError
from runners.stages._io import read_json, write_json
from runners.stages._sources import load_narrations
from runners.stages.assemble import render_options

VERSION = "finalize-v1"


async def input_hash(sc: StageContext) -> str | None:
    assembled = (await sc.upstream_artifact(Stage.ASSEMBLE)).content_hash
    keys = ("title", "burn_captions", "profile")
    upscaled = await _upscaled_hash(sc)
    extra = (upscaled,) if upscaled else ()
    return hash_inputs(VERSION, assembled, {k: sc.options.get(k) for k in keys}, *extra)


async def _upscaled_hash(sc: StageContext) -> str | None:
    try:
        return (await sc.upstream_artifact(Stage.UPSCALE)).content_hash
    except StageInputError:  # upscale skipped: no artifact
        return None


async def _upscaled_program(sc: StageContext) -> Path | None:
    """The 4K program when the upscale stage made one (then the finals are 2160p), else None."""
    if await _upscaled_hash(sc) is None:
        return None
    path = await sc.upstream(Stage.UPSCALE) / "program_4k.mp4"
    return path if path.exists() else None


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    folder = await sc.upstream(Stage.ASSEMBLE)
    script = Script.from_json(read_json(await sc.upstream(Stage.SCRIPT) / "script.json"))
    narrations = await load_narrations(sc)
    edl = EditList.from_json(read_json(folder / "edl.json"))
    alignment = Alignment.from_json(read_json(folder / "alignment.json"))
    options = render_options(sc.options)
    program = await _upscaled_program(sc)
    if program is not None:
        options = dataclasses.replace(options, profile="2160p")
    cues = program_cues(edl, narrations)
    finished = await sc.in_thread(finish_program, program or folder / "program.mp4", folder / "mix.wav",
                                  out / "final.mp4",
                                  cues, options, lambda _s, f: sc.progress(0.9 * f), sc.cancelled)
    files, notes = await sc.in_thread(write_side_files, out, script=script, edl=edl, alignment=alignment, cues=cues,
                                      finished=finished, title=options.title)
    span = (finished.program_offset, finished.program_offset + edl.duration)
    times = [span[0] + (span[1] - span[0]) * (i + 0.5) / 12 for i in range(12)]
    await sc.in_thread(pick_thumbnail, out / "final.mp4", out / "thumbnail.jpg", times=times)
    write_json(out / "render.json", {"duration": finished.duration, "notes": notes, **read_json(folder / "mix.json")})
    return {"duration": finished.duration, "files": sorted(files)}
