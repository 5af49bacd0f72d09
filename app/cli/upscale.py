"""CLI commands: ``recap upscale IN.mp4 -o OUT.mp4 [--model NAME] [--chunk-seconds N] [--resume]`` and
``recap gpu-token --worker NAME [--hours H]`` (a remote GPU worker's token, for the Colab notebook).

Upscales a video to the 4K profile with Real-ESRGAN, chunk by chunk (split at keyframes, checkpointed
in ``--work DIR``, default ``OUT.upscale``), so an interrupted run resumes where it stopped. Prints
a JSON summary with ``--json``. Exit codes: 0 ok, 2 any error (``error CODE: message`` on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``recap`` app."""
    app.command(name="upscale")(upscale_command)
    app.command(name="gpu-token")(gpu_token_command)


def gpu_token_command(
    worker: Annotated[str, typer.Option(help="The remote worker's name (letters, digits, - or _).")],
    hours: Annotated[float, typer.Option(help="Validity.")] = 12.0,
) -> None:
    """Print a remote GPU worker token (scoped to the /gpu/v1 chunk routes, expiring)."""
    from app.config import get_settings
    from app.gpu.tokens import mint_worker_token

    try:
        typer.echo(mint_worker_token(get_settings(), worker, ttl_s=round(hours * 3600)))
    except ValueError as ex:
        typer.echo(f"error BAD_OPTION: {ex}", err=True)
        raise typer.Exit(2) from ex


def upscale_command(
    src: Annotated[Path, typer.Argument(help="Input video.", exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output MP4.", dir_okay=False)],
    model: Annotated[str, typer.Option(help="realesr-animevideov3, realesr-general-x4v3, RealESRGAN_x4plus, "
                                       "RealESRGAN_x4plus_anime_6B")] = "realesr-animevideov3",
    weights: Annotated[Path | None, typer.Option(help="Official .pth (default: the packaged ncnn weights).",
                                                 exists=True, dir_okay=False)] = None,
    chunk_seconds: Annotated[float, typer.Option(help="Chunk length (cut at the next keyframe).")] = 10.0,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Skip chunks already done in --work.")] = True,
    work: Annotated[Path | None, typer.Option(help="Checkpoint folder (default: OUT.upscale).", file_okay=False)]
    = None,
    target: Annotated[str, typer.Option(help="UHD_4K (fit in 3840x2160) or native (model scale).")] = "UHD_4K",
    pad: Annotated[bool, typer.Option(help="Pad to exactly 3840x2160.")] = False,
    codec: Annotated[str, typer.Option(help="h264 or h265.")] = "h264",
    quality: Annotated[int, typer.Option(help="CRF / CQ.")] = 18,
    preset: Annotated[str, typer.Option(help="x264/x265 preset.")] = "medium",
    device: Annotated[str, typer.Option(help="auto, cuda, mps or cpu.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto, fp16, bf16 or fp32.")] = "auto",
    tile: Annotated[int, typer.Option(help="Tile side in input pixels (0: from free memory).")] = 0,
    batch: Annotated[int, typer.Option(help="Frames per batch.")] = 4,
    threads: Annotated[int, typer.Option(help="Encoder threads (0: the codec's default).")] = 0,
    compile_net: Annotated[bool, typer.Option("--compile", help="torch.compile the network.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
) -> None:
    """Upscale SRC to 4K with Real-ESRGAN, resumably."""
    from colab.chunks import ChunkError
    from colab.infer import InferOptions, Upscaler
    from colab.manifest import ChunkOptions, upscale_chunked
    from colab.models import ModelUnavailableError, load_network
    from colab.video import VideoError, VideoOptions

    try:
        video = VideoOptions(target=target, pad=pad, codec=codec, quality=quality, preset=preset, batch=batch,
                             threads=threads)
        options = ChunkOptions(chunk_seconds=chunk_seconds, resume=resume, video=video)
        up = Upscaler(load_network(model, weights), InferOptions(device=device, dtype=dtype, tile=tile,
                                                                 compile=compile_net))

        def progress(index: int, total: int, fraction: float) -> None:
            print(f"chunk {index + 1}/{total} {fraction:4.0%}", file=sys.stderr, flush=True)

        result = upscale_chunked(src, out, work or out.with_suffix(".upscale"), up, model, options,
                                 progress=progress)
    except (ValueError, ModelUnavailableError) as ex:
        typer.echo(f"error BAD_OPTION: {ex}", err=True)
        raise typer.Exit(2) from ex
    except (VideoError, ChunkError) as ex:
        typer.echo(f"error UPSCALE_FAILED: {ex}", err=True)
        raise typer.Exit(2) from ex
    summary = {"output": str(out), "frames": result.frames, "chunks": result.chunks, "processed": result.processed,
               "skipped": result.skipped, "redone": result.redone, "model": model, "device": str(up.device),
               "tile": up.tile, "oom_retries": up.stats.oom_retries}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(f"{out}: {result.frames} frames, {len(result.processed)} chunks upscaled, "
                   f"{len(result.skipped)} reused", err=True)
