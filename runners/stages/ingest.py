"""ingest: probe every source (content, not name) and write a 16 kHz mono proxy of its audio.

Writes ``sources.json`` (id, asset, probe per source) and ``s{i}.wav`` proxies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from media.probe import probe
from media.speech import iter_audio
from runners.artifacts import hash_inputs
from runners.context import StageContext
from runners.stages._io import write_json

VERSION = "ingest-v1"


async def input_hash(sc: StageContext) -> str | None:
    assets = await sc.source_assets()
    return hash_inputs(VERSION, [a.sha256 or str(a.id) for a in assets])


def _proxy(path: Path, out: Path) -> None:
    """16 kHz mono 16-bit proxy, streamed: memory stays flat for a two-hour movie."""
    import wave

    import numpy as np

    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        for block in iter_audio(path, sample_rate=16000):
            wav.writeframes((np.clip(block, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    assets = await sc.source_assets()
    sources: list[dict[str, Any]] = []
    for i, asset in enumerate(assets):
        path = await sc.local_asset(asset)
        info = await sc.in_thread(probe, path, require_video=True)
        audio = None
        if info.has_audio:
            audio = f"s{i}.wav"
            await sc.in_thread(_proxy, path, out / audio)
        sources.append({"id": f"s{i}", "asset_id": str(asset.id), "filename": asset.filename,
                        "sha256": asset.sha256, "duration": info.duration, "probe": info.to_json(), "audio": audio})
        sc.progress((i + 1) / len(assets))
    write_json(out / "sources.json", sources)
    return {"sources": len(sources), "duration": sum(s["duration"] for s in sources)}
