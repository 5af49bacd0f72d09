"""CLI command: ``recap align SOURCE... --script FILE [--narration AUDIO] [--json] [--out FILE]``.

Probes, analyses shots and transcribes every source (the visual and speech passes in parallel threads),
or reuses what ``recap analyse --out DIR`` wrote when ``--analysis-dir DIR`` is given (``DIR/<source
stem>/probe.json, shots.json, transcript.json``); parses the script (beat durations from the narration
audio when ``--narration`` is given); aligns; prints the ``alignment.json`` contract. With ``--json``
stdout carries the JSON and nothing else; progress bars and messages go to stderr.
Exit codes: 0 ok, 2 any error (its code is printed, e.g. ``error NOT_MEDIA: ...``).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from media.align import AlignSource
    from media.speech import FasterWhisperTranscriber
    from media.types import Alignment, Shot, Transcript


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``recap`` app."""
    app.command(name="align")(align_command)


def align_command(
    sources: Annotated[list[Path], typer.Argument(help="Source video(s), in story order.", dir_okay=False)],
    script: Annotated[Path, typer.Option("--script", "-s", help="Recap script (text, Markdown, SRT or VTT).",
                                         dir_okay=False)],
    narration: Annotated[Path | None, typer.Option("--narration", help="Recorded narration: its timing gives "
                                                   "each beat's target duration.", dir_okay=False)] = None,
    analysis_dir: Annotated[Path | None, typer.Option("--analysis-dir", help="Reuse `recap analyse --out DIR` "
                                                      "results found here.", file_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alignment JSON (only) to stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the alignment JSON here.",
                                             dir_okay=False)] = None,
    back_penalty: Annotated[float | None, typer.Option("--back-penalty", help="Cost of going back in the "
                                                       "footage where reordering is allowed.")] = None,
    reorder: Annotated[bool, typer.Option("--reorder", help="The recap may tell scenes out of the film's "
                                          "order (default: it follows the film).")] = False,
    reorder_beat: Annotated[list[int] | None, typer.Option("--reorder-beat", help="This beat (index) may come "
                                                           "before the previous beat's footage; repeatable.")] = None,
    whisper_model: Annotated[str, typer.Option("--whisper-model", help="Packaged Whisper model: tiny.en or "
                                               "base.")] = "tiny.en",
) -> None:
    """Align each paragraph of a recap SCRIPT to the moments of SOURCE(s) it tells."""
    from rich.console import Console

    from media.errors import MediaError

    console = Console(stderr=True)
    try:
        opts: dict[str, Any] = {"reorder": reorder, "reorder_beats": tuple(reorder_beat or ())}
        if back_penalty is not None:
            opts["back_penalty"] = back_penalty
        result = _run(sources, script, narration, analysis_dir, opts, whisper_model, console)
        text = json.dumps(result.to_json(), indent=1, ensure_ascii=False)
        if out is not None:
            _write(out, text)
    except MediaError as ex:
        console.print(f"[red]error[/red] {ex.code}: {ex}")
        raise typer.Exit(2) from ex
    except ValueError as ex:
        console.print(f"[red]error[/red] INVALID_OPTION: {ex}")
        raise typer.Exit(2) from ex
    if as_json:
        typer.echo(text)
    else:
        _summary(result)


def _run(sources: list[Path], script_path: Path, narration: Path | None, analysis_dir: Path | None,
         align_opts: dict[str, Any], whisper_model: str, console: Console) -> Alignment:
    from app.cli.analyse import _Bars
    from media.align import AlignOptions, align
    from media.errors import InputError
    from media.script import load_script, time_beats_from_narration

    for p in [*sources, script_path, *([narration] if narration else [])]:
        if not p.is_file():
            raise InputError(f"{p}: no such file", code="MISSING_FILE")
    options = AlignOptions(**align_opts)
    script = load_script(script_path)
    with _Bars(console) as bars:
        cached = [_load_cached(analysis_dir, s, k) for k, s in enumerate(sources)] if analysis_dir else []
        todo = [s for s, c in zip(sources, cached or [None] * len(sources), strict=True) if c is None]
        transcriber = _transcriber(whisper_model) if todo or narration else None
        fresh = iter(_analyse(todo, transcriber, bars) if todo else [])
        inputs = [c if c is not None else next(fresh) for c in (cached or [None] * len(sources))]
        align_sources = [_with_id(s, k) for k, s in enumerate(inputs)]
        if narration is not None and transcriber is not None:
            bar = bars.add(f"{narration.name} narration")
            script, _spans = time_beats_from_narration(script, transcriber.transcribe(narration, progress=bar))
        bar = bars.add("align")
        return align(script, align_sources, options, progress=bar)  # loads the model only if there is speech


def _transcriber(model: str) -> FasterWhisperTranscriber:
    from media.asr_models import whisper_model_dir
    from media.speech import FasterWhisperTranscriber

    return FasterWhisperTranscriber(whisper_model_dir(model))


def _with_id(src: AlignSource, k: int) -> AlignSource:
    from dataclasses import replace

    return replace(src, id=f"s{k}")


def _load_cached(folder: Path | None, source: Path, k: int) -> AlignSource | None:
    """The source's ``recap analyse`` results (probe, shots, transcript), or None when any is missing."""
    from media.align import AlignSource
    from media.errors import InputError
    from media.types import Shot, Transcript

    if folder is None:
        return None
    sub = folder / source.stem
    files = [sub / n for n in ("probe.json", "shots.json", "transcript.json")]
    if not all(f.is_file() for f in files):
        return None
    try:
        probe, shots, transcript = (json.loads(f.read_text(encoding="utf-8")) for f in files)
        shot_list = [Shot.from_json(s) for s in (shots["shots"] if isinstance(shots, dict) else shots)]
        tr = Transcript.from_json(transcript) if transcript else None
        return AlignSource(f"s{k}", str(source), float(probe["duration"]), shot_list, tr)
    except (OSError, ValueError, KeyError, TypeError) as ex:
        raise InputError(f"unreadable analysis in {sub}: {ex}", code="ANALYSIS_INVALID") from ex


def _analyse(sources: list[Path], transcriber: FasterWhisperTranscriber | None, bars: Any) -> list[AlignSource]:
    """Shots and transcript of every source: visual passes and transcriptions run in parallel threads."""
    from media.align import AlignSource
    from media.analysis import AnalysisOptions, analyse_video
    from media.errors import NoAudioStreamError

    failed = threading.Event()
    speech_lock = threading.Lock()  # one model, one transcription at a time

    def visual(src: Path) -> tuple[float, tuple[Shot, ...]]:
        try:
            a = analyse_video(src, AnalysisOptions(frame_stats=False), progress=bars.add(f"{src.name} shots"),
                              cancel=failed.is_set)
            return a.probe.duration, a.shots
        except BaseException:
            failed.set()
            raise

    def speech(src: Path) -> Transcript | None:
        bar = bars.add(f"{src.name} speech")
        with speech_lock:
            try:
                assert transcriber is not None
                return transcriber.transcribe(src, progress=bar, cancel=failed.is_set)
            except NoAudioStreamError:
                bar(1.0)
                return None  # video-only source: no dialogue, still alignable
            except BaseException:
                failed.set()
                raise

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="align") as pool:
        jobs = [(pool.submit(visual, s), pool.submit(speech, s)) for s in sources]
    _raise_first([f for pair in jobs for f in pair])
    out = []
    for k, (src, (fv, fs)) in enumerate(zip(sources, jobs, strict=True)):
        duration, shots = fv.result()
        out.append(AlignSource(f"s{k}", str(src), duration, shots, fs.result()))
    return out


def _raise_first(futures: list[Future[Any]]) -> None:
    """The first real error; a CancelledError raised only because another pass failed comes last."""
    from media.errors import CancelledError

    errors = [ex for ex in (f.exception() for f in futures) if ex is not None]
    real = [ex for ex in errors if not isinstance(ex, CancelledError)]
    if errors:
        raise (real or errors)[0]


def _write(path: Path, text: str) -> None:
    from media.errors import OutputError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as ex:
        raise OutputError(f"cannot write {path}: {ex.strerror or ex}") from ex


def _summary(result: Alignment) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("beat", "confidence", "clips (source start-end)", "seconds / target")
    for b in result.beats:
        clips = ", ".join(f"{c.source} {c.start:.1f}-{c.end:.1f}" for c in b.clips) or "-"
        table.add_row(str(b.index), f"{b.confidence:.2f}", clips,
                      f"{sum(c.duration for c in b.clips):.1f} / {b.target_duration:.1f}")
    Console().print(table)
    for note in result.meta.get("notes", []):
        Console().print(f"note: {note}")
