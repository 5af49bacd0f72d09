"""The whole render in one process: analysis -> transcription -> script -> narration -> alignment -> EDL ->
assembly -> mix -> finishing -> side files. Each step is a small function so job runners can call them stage
by stage; ``render`` chains them for the CLI::

    result = render([Path("movie.mp4")], Path("recap.md").read_text(), Path("out/recap.mp4"),
                    RenderOptions(tts=True, profile="720p"), progress=lambda stage, f: print(stage, f))
    print(result.files["captions.srt"], result.loudness_lufs)

Side files are written next to the output: captions.srt, captions.vtt, chapters.txt, thumbnail.jpg,
edl.json, alignment.json, timeline.otio (+ timeline.edl and timeline.xml where the adapters allow),
and the per-beat narration under narration/ (the timeline references it).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from media.audio import MixOptions, MixResult, NarrationPlacement, mix
from media.captions import CaptionOptions, Cue, build_cues, timeline_words, write_captions, write_text_atomic
from media.chapters import build_chapters, write_chapters
from media.edl import EditList, EdlOptions, NarrationSpan, SourceInfo, build_edl
from media.errors import CancelledError, OutputError
from media.export import ExportError, edl_to_timeline, export_timeline
from media.finish import FinishOptions, FinishResult, finish, shift_cues
from media.thumbnails import pick_thumbnail
from media.tts import BeatNarration, Narrator, TranscriberLike, narrate_script, split_recorded_narration
from media.types import JSON, Alignment, Script, Transcript

__all__ = [
    "RenderOptions", "RenderResult", "SourceAnalysis", "StageProgress", "align_sources", "analyse_sources",
    "assemble_program", "finish_program", "make_edl", "mix_program", "narrate", "parse_script_text", "render",
    "with_narration_durations", "write_side_files",
]

#: Progress of a named stage: ``progress("mix", 0.5)``.
StageProgress = Callable[[str, float], None]
#: Seconds of footage after each beat's narration (a breath between beats).
BEAT_PAD = 0.4


@dataclass(frozen=True, slots=True)
class RenderOptions:
    profile: str = "720p"
    tts: bool = True
    narration: Path | None = None
    burn_captions: bool = False
    title: str | None = None
    intro: Path | None = None
    outro: Path | None = None
    crossfade: float = 0.0
    music: Path | None = None
    mix: MixOptions = field(default_factory=MixOptions)
    words_per_minute: float = 160.0

    def __post_init__(self) -> None:
        if self.narration is None and not self.tts:
            raise ValueError("choose a narration: recorded audio (narration) or tts=True")


@dataclass(frozen=True, slots=True)
class SourceAnalysis:
    id: str
    path: Path
    duration: float
    fps: float
    shots: tuple[Any, ...]
    transcript: Transcript | None


@dataclass(frozen=True, slots=True)
class RenderResult:
    video: Path
    duration: float
    files: dict[str, Path]
    loudness_lufs: float
    true_peak_dbtp: float
    assemble_mode: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        return {"video": str(self.video), "duration": round(self.duration, 3),
                "files": {k: str(v) for k, v in self.files.items()}, "loudness_lufs": self.loudness_lufs,
                "true_peak_dbtp": self.true_peak_dbtp, "assemble_mode": self.assemble_mode, "notes": list(self.notes)}


def _noop(stage: str, fraction: float) -> None:
    del stage, fraction


def _never() -> bool:
    return False


def _scaled(progress: StageProgress, stage: str, start: float, width: float) -> Callable[[float], None]:
    """A fraction callback for one piece of a stage."""
    def report(fraction: float) -> None:
        progress(stage, start + fraction * width)
    return report


def analyse_sources(paths: Sequence[Path], transcriber: Any, progress: StageProgress = _noop,
                    cancel: Callable[[], bool] = _never) -> list[SourceAnalysis]:
    """Shots and transcript of every source (ids s0, s1, ... in the order given)."""
    from media.analysis import AnalysisOptions, analyse_video
    from media.errors import NoAudioStreamError

    out: list[SourceAnalysis] = []
    part = 1 / max(1, len(paths))
    for i, path in enumerate(paths):
        result = analyse_video(path, AnalysisOptions(frame_stats=False),
                               progress=_scaled(progress, "analyse", i * part, part), cancel=cancel)
        transcript: Transcript | None = None
        if result.probe.has_audio:
            try:
                transcript = transcriber.transcribe(path, progress=_scaled(progress, "transcribe", i * part, part),
                                                    cancel=cancel)
            except NoAudioStreamError:
                transcript = None
        video = result.probe.video
        assert video is not None
        out.append(SourceAnalysis(f"s{i}", path.resolve(), result.probe.duration, video.fps, result.shots,
                                  transcript))
    progress("analyse", 1.0)
    progress("transcribe", 1.0)
    return out


def parse_script_text(text: str, words_per_minute: float = 160.0) -> Script:
    """The script (``media.script.parse_script``: text, Markdown, SRT or WebVTT)."""
    from media.script import parse_script

    return parse_script(text, words_per_minute=words_per_minute)


def narrate(script: Script, work: Path, *, narrator: Narrator | None = None, recorded: Path | None = None,
            transcriber: TranscriberLike | None = None, progress: StageProgress = _noop,
            cancel: Callable[[], bool] = _never) -> list[BeatNarration]:
    """One narration wav per beat: split from a recording (with ``transcriber``) or synthesized by ``narrator``."""
    if recorded is not None:
        if transcriber is None:
            raise ValueError("recorded narration needs a transcriber")
        result = split_recorded_narration(recorded, script, transcriber, work)
    else:
        if narrator is None:
            raise ValueError("TTS narration needs a narrator")
        result = narrate_script(script, work, narrator, progress=lambda f: progress("narrate", f), cancel=cancel)
    progress("narrate", 1.0)
    return result


def with_narration_durations(script: Script, narrations: Sequence[BeatNarration]) -> Script:
    """The script with each beat's target duration set to its narration's length (plus a breath)."""
    lengths = {n.beat: n.narration.duration + BEAT_PAD for n in narrations}
    beats = tuple(replace(b, target_duration=lengths.get(b.index, b.target_duration)) for b in script.beats)
    return replace(script, beats=beats)


def align_sources(script: Script, sources: Sequence[SourceAnalysis], progress: StageProgress = _noop,
                  cancel: Callable[[], bool] = _never) -> Alignment:
    from media.align import AlignSource, align

    refs = [AlignSource(s.id, str(s.path), s.duration, s.shots, s.transcript) for s in sources]
    return align(script, refs, progress=lambda f: progress("align", f), cancel=cancel)


def make_edl(alignment: Alignment, sources: Sequence[SourceAnalysis], narrations: Sequence[BeatNarration],
             options: RenderOptions) -> EditList:
    infos = {s.id: SourceInfo(str(s.path), s.duration, s.fps) for s in sources}
    spans = {n.beat: NarrationSpan(str(n.narration.path), 0.0, n.narration.duration) for n in narrations}
    durations = {n.beat: n.narration.duration + BEAT_PAD for n in narrations}
    opts = EdlOptions(profile=options.profile, title=options.title,
                      intro=None if options.intro is None else str(options.intro),
                      outro=None if options.outro is None else str(options.outro),
                      music=None if options.music is None else str(options.music), crossfade=options.crossfade)
    return build_edl(alignment, infos, beat_durations=durations, narration=spans, options=opts)


def assemble_program(edl: EditList, out: Path, progress: StageProgress = _noop,
                     cancel: Callable[[], bool] = _never) -> Any:
    from media.assemble import AssembleOptions, assemble

    return assemble(edl, out, AssembleOptions(profile=edl.profile), progress=lambda f: progress("assemble", f),
                    cancel=cancel)


def mix_program(edl: EditList, program: Path, narrations: Sequence[BeatNarration], out: Path, options: RenderOptions,
                progress: StageProgress = _noop, cancel: Callable[[], bool] = _never) -> MixResult:
    """Narration at each beat slot's start over the ducked program audio, loudness-normalised."""
    by_beat = {n.beat: n.narration for n in narrations}
    placed = [NarrationPlacement(s.start, by_beat[s.beat]) for s in edl.slots if s.beat in by_beat]
    keep = [(c.timeline_start, c.timeline_end) for c in edl.clips if c.keep_source_audio]
    return mix(program, placed, out, duration=edl.duration, keep_source=keep, music=options.music,
               options=options.mix, progress=lambda f: progress("mix", f), cancel=cancel)


def program_cues(edl: EditList, narrations: Sequence[BeatNarration]) -> list[Cue]:
    """Caption cues on the program timeline from the narration's word timings."""
    by_beat = {n.beat: n.narration for n in narrations}
    return build_cues(timeline_words([(s.start, by_beat[s.beat]) for s in edl.slots if s.beat in by_beat]),
                      CaptionOptions())


def finish_program(program: Path, mixed: Path, out: Path, cues: Sequence[Cue], options: RenderOptions,
                   progress: StageProgress = _noop, cancel: Callable[[], bool] = _never) -> FinishResult:
    opts = FinishOptions(intro=options.intro, outro=options.outro, title=options.title, crossfade=options.crossfade,
                         cues=tuple(cues) if options.burn_captions else None,
                         profile=options.profile if options.profile != "source" else "720p")
    return finish(program, mixed, out, opts, progress=lambda f: progress("finish", f), cancel=cancel)


def write_side_files(out_dir: Path, *, script: Script, edl: EditList, alignment: Alignment, cues: Sequence[Cue],
                     finished: FinishResult, title: str | None) -> tuple[dict[str, Path], list[str]]:
    """captions.srt/.vtt, chapters.txt, edl.json, alignment.json, timeline.otio (+ .edl/.xml where possible)."""
    files: dict[str, Path] = {}
    notes: list[str] = []
    final_cues = shift_cues(cues, finished.program_offset)
    write_captions(final_cues, out_dir / "captions.srt", out_dir / "captions.vtt")
    files["captions.srt"], files["captions.vtt"] = out_dir / "captions.srt", out_dir / "captions.vtt"
    marks = build_chapters(script.chapters, {s.beat: s.start for s in edl.slots}, finished.duration,
                           offset=finished.program_offset)
    write_chapters(out_dir / "chapters.txt", marks)
    files["chapters.txt"] = out_dir / "chapters.txt"
    if not marks:
        notes.append("chapters.txt is empty: YouTube needs 3 or more chapters of at least 10 s")
    for name, doc in (("edl.json", edl.to_json()), ("alignment.json", alignment.to_json())):
        write_text_atomic(out_dir / name, json.dumps(doc, indent=1, ensure_ascii=False))
        files[name] = out_dir / name
    timeline = edl_to_timeline(edl, title or "Recap")
    files["timeline.otio"] = export_timeline(timeline, out_dir, ("otio",))["otio"]
    for fmt in ("edl", "xml"):
        try:
            files[f"timeline.{fmt}"] = export_timeline(timeline, out_dir, (fmt,))[fmt]
        except ExportError as ex:
            notes.append(f"timeline.{fmt} not written: {ex}")
    return files, notes


def render(sources: Sequence[Path], script_text: str, out: Path, options: RenderOptions, *,
           narrator: Narrator | None = None, transcriber: Any = None, progress: StageProgress = _noop,
           cancel: Callable[[], bool] = _never) -> RenderResult:
    """Render a finished recap from sources and a script (the CLI's ``recap render``)."""
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise OutputError(f"cannot create the output folder {out.parent}: {ex.strerror or ex}") from ex
    if not os.access(out.parent, os.W_OK):
        raise OutputError(f"the output folder {out.parent} is not writable")
    if transcriber is None:
        from media.speech import FasterWhisperTranscriber

        transcriber = FasterWhisperTranscriber()
    script = parse_script_text(script_text, options.words_per_minute)
    analysed = analyse_sources(sources, transcriber, progress, cancel)
    if options.narration is None and narrator is None:
        from media.tts import PiperNarrator

        narrator = PiperNarrator()
    narrations = narrate(script, out.parent / "narration", narrator=narrator, recorded=options.narration,
                         transcriber=transcriber, progress=progress, cancel=cancel)
    script = with_narration_durations(script, narrations)
    alignment = align_sources(script, analysed, progress, cancel)
    edl = make_edl(alignment, analysed, narrations, options)
    with tempfile.TemporaryDirectory(prefix=".recap-work-", dir=out.parent) as tmp:
        work = Path(tmp)
        assembled = assemble_program(edl, work / "program.mp4", progress, cancel)
        mixed = mix_program(edl, work / "program.mp4", narrations, work / "mix.wav", options, progress, cancel)
        if cancel():
            raise CancelledError("render cancelled")
        cues = program_cues(edl, narrations)
        finished = finish_program(work / "program.mp4", mixed.path, out, cues, options, progress, cancel)
        # from the program, not the final video: no title card, no burned-in captions
        times = [edl.duration * (i + 0.5) / 12 for i in range(12)]
        thumb = pick_thumbnail(work / "program.mp4", out.parent / "thumbnail.jpg", times=times).path
    files, notes = write_side_files(out.parent, script=script, edl=edl, alignment=alignment, cues=cues,
                                    finished=finished, title=options.title)
    files["thumbnail.jpg"] = thumb
    progress("finish", 1.0)
    return RenderResult(out, finished.duration, files, mixed.integrated_lufs, mixed.true_peak_dbtp,
                        str(getattr(assembled, "mode", "")), tuple(notes))
