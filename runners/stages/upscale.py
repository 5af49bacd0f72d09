"""upscale: 4K Real-ESRGAN pass over the assembled program, run by GPU workers pulling the ``gpu`` queue.

The program is split at keyframes into chunks (``upscale_inputs/{job_id}/``); each chunk's segment and
the manifest go to ``upscale_outputs/{job_id}/`` as soon as the chunk is done, and the lease is extended
after every chunk. A worker that dies leaves its finished segments in storage: the next attempt (on any
GPU worker) fetches the manifest and segments back and upscales only the chunks that are missing or whose
segment no longer matches its sha256. The network is loaded once per worker process.

Options (``options.upscale``): ``model`` (default realesr-animevideov3), ``target`` (UHD_4K | NATIVE),
``tile`` (0: from free memory), ``chunk_seconds``. Writes ``program_4k.mp4`` and ``upscale.json``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from app.models import Stage
from app.storage import Storage, fetch_to
from app.storage.keys import upscale_input_key, upscale_output_key
from runners.artifacts import hash_inputs
from runners.context import StageContext, StageInputError
from runners.stages._io import write_json
from runners.state import extend_lease

VERSION = "upscale-v1"
TARGETS = {"UHD_4K": "UHD_4K", "NATIVE": "native"}
_LOCK = threading.Lock()
_UPSCALERS: dict[tuple[str, int], Any] = {}


def upscale_options(options: dict[str, Any]) -> dict[str, Any]:
    raw = options.get("upscale")
    raw = raw if isinstance(raw, dict) else {}
    target = str(raw.get("target") or "UHD_4K").upper()
    if target not in TARGETS:
        raise StageInputError("BAD_OPTION", f"upscale target must be one of {', '.join(TARGETS)}")
    return {"model": str(raw.get("model") or "realesr-animevideov3"), "target": target,
            "tile": int(raw.get("tile") or 0), "chunk_seconds": float(raw.get("chunk_seconds") or 10.0)}


def upscaler(model: str, tile: int) -> Any:
    """The worker's upscaler for ``model`` (loaded once per process, shared by every job)."""
    from colab.infer import InferOptions, Upscaler
    from colab.models import ModelUnavailableError, load_network

    with _LOCK:
        if (model, tile) not in _UPSCALERS:
            try:
                _UPSCALERS[(model, tile)] = Upscaler(load_network(model), InferOptions(tile=tile))
            except ModelUnavailableError as ex:
                raise StageInputError("UPSCALE_UNAVAILABLE", str(ex)) from ex
        return _UPSCALERS[(model, tile)]


async def input_hash(sc: StageContext) -> str | None:
    assembled = (await sc.upstream_artifact(Stage.ASSEMBLE)).content_hash
    return hash_inputs(VERSION, assembled, upscale_options(sc.options))


async def _restore(storage: Storage, sc: StageContext, work: Path) -> None:
    """Bring back what an earlier attempt stored: the chunks, the manifest and the finished segments."""
    for folder, prefix in (("inputs", f"upscale_inputs/{sc.job_id}/"), ("outputs", f"upscale_outputs/{sc.job_id}/")):
        for item in await storage.list(prefix):
            name = item.key.rsplit("/", 1)[-1]
            dest = work / folder / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = await fetch_to(storage, item.key, dest)
            if src != dest:
                dest.write_bytes(src.read_bytes())


async def _store_chunks(storage: Storage, sc: StageContext, work: Path) -> None:
    for path in sorted((work / "inputs").glob("chunk_*.nut")):
        key = upscale_input_key(sc.job_id, path.name)
        if await storage.stat(key) is None:
            await storage.put_file(key, path)


async def run(sc: StageContext, out: Path) -> dict[str, Any]:
    import asyncio

    from colab.chunks import Chunk, ChunkError
    from colab.manifest import MANIFEST, ChunkOptions, upscale_chunked
    from colab.video import UpscaleCancelledError, VideoError, VideoOptions

    opts = upscale_options(sc.options)
    src = await sc.upstream(Stage.ASSEMBLE) / "program.mp4"
    work = sc.workdir / "upscale"
    await _restore(sc.storage, sc, work)
    loop = asyncio.get_running_loop()
    settings = sc.settings

    async def after_chunk(chunk: Chunk, segment: Path) -> None:
        await _store_chunks(sc.storage, sc, work)
        await sc.storage.put_file(upscale_output_key(sc.job_id, segment.name), segment)
        await sc.storage.put_file(upscale_output_key(sc.job_id, MANIFEST), work / "outputs" / MANIFEST)
        if not await extend_lease(sc.claim, lease_s=settings.worker.lease_seconds, progress=sc.reporter.value,
                                  message=f"chunk {chunk.index + 1} upscaled"):
            sc.cancel_event.set()

    def on_segment(chunk: Chunk, segment: Path) -> None:
        asyncio.run_coroutine_threadsafe(after_chunk(chunk, segment), loop).result()

    def progress(index: int, total: int, fraction: float) -> None:
        sc.reporter.progress(min(0.99, (index + fraction) / total), f"chunk {index + 1}/{total}")

    video = VideoOptions(target=TARGETS[opts["target"]])
    options = ChunkOptions(chunk_seconds=opts["chunk_seconds"], video=video)
    if settings.worker.upscale_remote:
        from runners.stages._upscale_remote import run_remote

        meta = await run_remote(sc, src, out, work, opts, options)
        write_json(out / "upscale.json", {**opts, **meta})
        return {**opts, **meta}
    up = await sc.in_thread(upscaler, opts["model"], opts["tile"])
    try:
        result = await sc.in_thread(upscale_chunked, src, out / "program_4k.mp4", work, up, opts["model"], options,
                                    progress=progress, cancel=sc.cancelled, on_segment=on_segment)
    except UpscaleCancelledError:
        return {"cancelled": True}
    except (VideoError, ChunkError) as ex:
        raise StageInputError("UPSCALE_FAILED", str(ex)) from ex
    await _store_chunks(sc.storage, sc, work)
    meta = {**opts, "frames": result.frames, "chunks": result.chunks, "processed": result.processed,
            "skipped": result.skipped, "redone": result.redone, "device": str(up.device), "tile": up.tile}
    write_json(out / "upscale.json", meta)
    return meta
