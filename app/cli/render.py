"""CLI command: ``recap render`` - sources + script -> finished recap with captions, chapters and thumbnail.

Runs every stage in this process (no server, no database) with progress bars on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

_STAGES = ("analyse", "transcribe", "narrate", "align", "assemble", "mix", "finish")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``recap`` app."""
    app.command(name="render")(render_command)


def render_command(
    sources: Annotated[list[Path], typer.Argument(help="Source video(s): a movie, or episodes in story order.",
                                                  exists=True, dir_okay=False, readable=True)],
    script: Annotated[Path, typer.Option("--script", help="Recap script: paragraphs = beats, '# ' = chapters.",
                                         exists=True, dir_okay=False, readable=True)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The recap video to write (.mp4).")] = Path(
        "recap.mp4"),
    narration: Annotated[Path | None, typer.Option("--narration", help="A recorded narration to use.",
                                                   exists=True, dir_okay=False)] = None,
    tts: Annotated[bool, typer.Option("--tts", help="Synthesize the narration with Piper.")] = False,
    profile: Annotated[str, typer.Option("--profile", help="1080p, 720p or source.")] = "720p",
    burn_captions: Annotated[bool, typer.Option("--burn-captions", help="Draw the captions into the video.")] = False,
    title: Annotated[str | None, typer.Option("--title", help="Project title: a title card opens the video.")] = None,
    intro: Annotated[Path | None, typer.Option("--intro", exists=True, dir_okay=False)] = None,
    outro: Annotated[Path | None, typer.Option("--outro", exists=True, dir_okay=False)] = None,
    crossfade: Annotated[float, typer.Option("--crossfade", min=0.0, max=2.0, help="Seconds.")] = 0.0,
    music: Annotated[Path | None, typer.Option("--music", exists=True, dir_okay=False)] = None,
    target_lufs: Annotated[float, typer.Option("--lufs", min=-40.0, max=-5.0)] = -14.0,
) -> None:
    """Render a narrated recap from SOURCE(s) and a script, writing captions, chapters, thumbnail and timeline."""
    from rich.console import Console

    from media.audio import MixOptions
    from media.errors import MediaError
    from media.profiles import PROFILES
    from media.render import RenderOptions, render
    from media.types import MAX_SCRIPT_BYTES

    console = Console(stderr=True)
    if narration is not None and tts:
        raise typer.BadParameter("choose one of --narration and --tts")
    if profile not in PROFILES:
        raise typer.BadParameter(f"--profile must be one of {sorted(PROFILES)}")
    if output.suffix.lower() not in (".mp4", ".mov", ".mkv", ".m4v"):
        raise typer.BadParameter("-o must end in .mp4, .mov or .mkv")
    text = script.read_bytes()[:MAX_SCRIPT_BYTES].decode("utf-8", errors="replace")
    options = RenderOptions(profile=profile, tts=narration is None, narration=narration, burn_captions=burn_captions,
                            title=title, intro=intro, outro=outro, crossfade=crossfade, music=music,
                            mix=MixOptions(target_lufs=target_lufs))
    try:
        with _Bars(console) as bars:
            result = render(sources, text, output, options, progress=bars.update)
    except MediaError as ex:
        console.print(f"[red]error[/red] {ex.code}: {ex}")
        raise typer.Exit(2) from ex
    except ValueError as ex:
        console.print(f"[red]error[/red] {ex}")
        raise typer.Exit(2) from ex
    console.print(f"[green]wrote[/green] {result.video} ({result.duration:.1f} s, {result.loudness_lufs:.1f} LUFS, "
                  f"true peak {result.true_peak_dbtp:.1f} dBTP, assembly: {result.assemble_mode})")
    for name in sorted(result.files):
        console.print(f"  {name}: {result.files[name]}")
    for note in result.notes:
        console.print(f"  [yellow]note[/yellow] {note}")


class _Bars:
    """One rich progress bar per stage, on stderr."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description:<10}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Bars:
        self.progress.__enter__()
        for stage in _STAGES:
            self.tasks[stage] = self.progress.add_task(stage, total=1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def update(self, stage: str, fraction: float) -> None:
        task = self.tasks.get(stage)
        if task is not None:
            self.progress.update(task, completed=max(0.0, min(1.0, fraction)))
