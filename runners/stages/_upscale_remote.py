"""upscale, coordinated: the chunks go on the board for remote GPU workers (Colab) over HTTPS.

This worker splits, publishes the chunks that have no good segment yet, checks every segment a remote
worker uploads (sha256 and frame count; a bad one goes back on the board), records it in the manifest,
and joins when all are in. Chosen by ``RECAP_WORKER__UPSCALE_REMOTE=true`` on the coordinating worker.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.gpu import board
from app.redis import get_redis
from app.storage import fetch_to
from app.storage.keys import upscale_input_key, upscale_output_key
from runners.context import StageContext

POLL_S = 1.0


async def run_remote(sc: StageContext, src: Path, out: Path, work: Path, opts: dict[str, Any],
                     options: Any) -> dict[str, Any]:
    from colab.chunks import Chunk, ChunkError, count_frames, join_segments, sha256_file
    from colab.manifest import MANIFEST, prepare, record_segment, segment_ok

    manifest = await sc.in_thread(prepare, src, work, opts["model"], options)
    chunks = [Chunk.from_json(c) for c in manifest["chunks"]]
    for chunk in chunks:
        key = upscale_input_key(sc.job_id, chunk.name)
        if await sc.storage.stat(key) is None:
            await sc.storage.put_file(key, work / "inputs" / chunk.name)
    pending = {c.index: c for c in chunks if not segment_ok(work, c, manifest["segments"].get(str(c.index)))}
    redis, job = get_redis(sc.settings), str(sc.job_id)
    video = {k: v for k, v in asdict(options.video).items() if k != "audio"}
    await board.publish(redis, job, {"model": opts["model"], "video": video}, [c.to_json() for c in pending.values()])
    try:
        while pending:
            if sc.cancelled():
                return {"cancelled": True}
            for index, record in (await board.done(redis, job)).items():
                chunk_or_none = pending.get(index)
                if chunk_or_none is None:
                    continue
                chunk = chunk_or_none
                seg = work / "outputs" / chunk.segment
                local = await fetch_to(sc.storage, upscale_output_key(sc.job_id, chunk.segment), seg)
                if local != seg:
                    seg.write_bytes(local.read_bytes())
                ok = sha256_file(seg) == record.get("sha256")
                try:
                    ok = ok and await sc.in_thread(count_frames, seg) == chunk.frames
                except ChunkError:
                    ok = False
                if not ok:
                    await board.undo(redis, job, index)
                    continue
                record_segment(work, manifest, chunk, {"sha256": record["sha256"], "frames": chunk.frames,
                                                       "worker": record.get("worker")})
                await sc.storage.put_file(upscale_output_key(sc.job_id, MANIFEST), work / "outputs" / MANIFEST)
                del pending[index]
                sc.reporter.progress(min(0.99, 1 - len(pending) / len(chunks)),
                                     f"{len(chunks) - len(pending)}/{len(chunks)} chunks (remote)")
            await asyncio.sleep(POLL_S)
    finally:
        await board.withdraw(redis, job)
    frames = await sc.in_thread(join_segments, [work / "outputs" / c.segment for c in chunks], chunks, src,
                                out / "program_4k.mp4")
    return {"frames": frames, "chunks": len(chunks), "remote": True}
