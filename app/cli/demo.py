"""CLI commands: ``recap worker`` (a job runner) and ``recap demo`` (the whole product, end to end)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add ``worker`` and ``demo`` to the ``recap`` app."""
    app.command()(worker)
    app.command()(demo)


def worker(
    queue: str = typer.Option("cpu", help="cpu (media stages) or gpu (upscaling)"),
    burst: bool = typer.Option(False, help="exit when the queue is empty"),
) -> None:
    """Run an ARQ worker that executes pipeline stages."""
    from app.cli.runtime import runtime_settings

    with runtime_settings() as settings:
        from app.queue import CPU_QUEUE, GPU_QUEUE
        from runners.worker import run_supervised

        run_supervised(settings, queue=GPU_QUEUE if queue == "gpu" else CPU_QUEUE, burst=burst)


def demo(
    source: list[Path] = typer.Option(None, "--source", exists=True, dir_okay=False, help="your movie (repeatable)"),
    script: Path | None = typer.Option(None, "--script", exists=True, dir_okay=False, help="your recap script"),
    out: Path = typer.Option(Path("recap-demo"), "--out", "-o", help="where the outputs go"),
    profile: str = typer.Option("720p", help="output profile: 1080p, 720p or source"),
    port: int = typer.Option(0, help="API port (0: a free one)"),
) -> None:
    """Start the stack, upload a sample film (or yours) through the API, render it with live progress."""
    from app.cli._demo_run import run_demo

    if bool(source) != bool(script):
        raise typer.BadParameter("give --source and --script together (or neither for the sample film)")
    raise typer.Exit(run_demo(list(source or []), script, out, profile=profile, port=port))
