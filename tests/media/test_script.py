"""media.script: parsing recap scripts, subtitles, limits, and beat timing from a real narration."""

from __future__ import annotations

import codecs
import itertools
from pathlib import Path

import numpy as np
import pytest

from media.errors import BeatTooLongError, BinaryScriptError, EmptyScriptError, ScriptError, ScriptTooLargeError
from media.script import (
    MAX_SCRIPT_BYTES,
    BeatSpan,
    load_script,
    parse_script,
    read_subtitles,
    time_beats_from_narration,
)
from media.types import Script, Segment, Transcript, Word

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"
needs_media = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"real test media folder {MEDIA} is absent")
DEV_SCRIPT = MEDIA.parent / "eval" / "dev" / "dev_script.md"


def texts(script: Script) -> list[str]:
    return [b.text for b in script.beats]


# --- structure --------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "beats"), [
    ("One.", ["One."]),
    ("One.\n\nTwo.", ["One.", "Two."]),
    ("One line\nsame paragraph.\n\n\n\nTwo.", ["One line same paragraph.", "Two."]),
    ("  \n\nOne.  \n \t \nTwo.\n\n", ["One.", "Two."]),
    ("# Title\nOne.\n## Part\nTwo.", ["One.", "Two."]),
    ("One.\r\n\r\nTwo.\r\n", ["One.", "Two."]),
    ("One.\rTwo.", ["One. Two."]),
    ("One.\n\n---\n\nTwo.", ["One.", "Two."]),
    ("One.\n***\nTwo.", ["One.", "Two."]),
])
def test_paragraphs_are_beats(source: str, beats: list[str]) -> None:
    script = parse_script(source)
    assert texts(script) == beats
    assert [b.index for b in script.beats] == list(range(len(beats)))


def test_headings_are_chapters_and_title() -> None:
    script = parse_script("# My recap\n\nIntro.\n\n## Act one\n\nA.\n\nB.\n\n## Empty act\n\n## Act two ##\n\nC.")
    assert script.title == "My recap"
    assert [(c.index, c.title, c.first_beat) for c in script.chapters] == [
        (0, "My recap", 0), (1, "Act one", 1), (2, "Act two", 3)]
    assert [b.chapter for b in script.beats] == [0, 1, 1, 2]
    assert texts(script) == ["Intro.", "A.", "B.", "C."]


@pytest.mark.parametrize(("source", "title", "chapters", "beat_chapters"), [
    ("No headings.", None, [], [None]),
    ("Before.\n\n# Later\n\nAfter.", None, [("Later", 1)], [None, 0]),
    ("## Level two first\n\nA.", None, [("Level two first", 0)], [0]),
    ("# Title\n\n## One\n\nA.", "Title", [("One", 0)], [0]),
    ("#\n\nA.\n\n#hashtag line\n\nB.", None, [("hashtag line", 1)], [None, 0]),
])
def test_heading_rules(source: str, title: str | None, chapters: list[tuple[str, int]],
                       beat_chapters: list[int | None]) -> None:
    script = parse_script(source)
    assert script.title == title
    assert [(c.title, c.first_beat) for c in script.chapters] == chapters
    assert [b.chapter for b in script.beats] == beat_chapters


@pytest.mark.parametrize(("markdown", "plain"), [
    ("**Bold** and *em* and _under_ and __strong__.", "Bold and em and under and strong."),
    ("A [link](http://x.org \"t\") and ![a cat](cat.png).", "A link and a cat."),
    ("Call `code` and ~~gone~~ text.", "Call code and gone text."),
    ("- first item\n- second item", "first item second item"),
    ("1. one\n2) two", "one two"),
    ("> quoted line\n> > nested", "quoted line nested"),
    ("snake_case_name stays, 2*3*4 stays.", "snake_case_name stays, 2*3*4 stays."),
    ("Escaped \\*stars\\* here.", "Escaped *stars* here."),
    ("See [the ref][1].\n\n[1]: http://example.org", "See the ref."),
    ("Text <b>bold</b> <!-- hidden --> end.", "Text bold end."),
    ("<https://example.org> is a site.", "https://example.org is a site."),
])
def test_markdown_is_stripped(markdown: str, plain: str) -> None:
    assert texts(parse_script(markdown)) == [plain]


def test_text_format_keeps_markdown_characters() -> None:
    script = parse_script("**Loud** and *soft*.\n\n# Heading\n\nNext.", fmt="text")
    assert texts(script) == ["**Loud** and *soft*.", "Next."] and script.chapters[0].title == "Heading"


def test_markdown_blocks_are_not_narration() -> None:
    source = "---\ntitle: x\n---\nIntro.\n\n```\ncode block\n```\n\n<!--\nnote\n-->\n\nEnd."
    assert texts(parse_script(source)) == ["Intro.", "End."]


@pytest.mark.parametrize(("raw", "clean"), [
    ("\u201cQuoted\u201d and \u2018single\u2019 it\u2019s.", "\"Quoted\" and 'single' it's."),
    ("A\u2013B and C\u2014D.", "A-B and C - D."),
    ("Caf\u0065\u0301 \ufb01ne \uff21.", "Caf\u00e9 fine A."),
    ("No\u00a0break\u2009space.", "No break space."),
    ("Wait\u2026 what?", "Wait... what?"),
    ("bell\x07 and \x1b[31mescape.", "bell and [31mescape."),
    ("zero\u200bwidth\ufeff.", "zerowidth."),
])
def test_unicode_normalisation(raw: str, clean: str) -> None:
    assert texts(parse_script(raw, fmt="text")) == [clean]


def test_bidi_overrides_are_removed() -> None:
    # Trojan-source style: the RLO/PDI characters would make the text read differently from its bytes.
    script = parse_script("Access \u202egranted\u202c for \u2067admin\u2069 \u200fnow.")
    assert texts(script) == ["Access granted for admin now."]
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in script.beats[0].text)


@pytest.mark.parametrize(("text", "sentences"), [
    ("One. Two! Three? Four", ("One.", "Two!", "Three?", "Four")),
    ("Mr. Dashwood met Dr. Who. Then left.", ("Mr. Dashwood met Dr. Who.", "Then left.")),
    ("J. R. R. Tolkien wrote it. Yes.", ("J. R. R. Tolkien wrote it.", "Yes.")),
    ("He said \"Stop.\" Then ran.", ("He said \"Stop.\"", "Then ran.")),
    ("It costs 3.50 dollars. In 1936 it did not.", ("It costs 3.50 dollars.", "In 1936 it did not.")),
    ("lower. case continues", ("lower. case continues",)),
])
def test_sentence_split(text: str, sentences: tuple[str, ...]) -> None:
    assert parse_script(text).beats[0].sentences == sentences


@pytest.mark.parametrize(("words", "wpm", "seconds"), [(160, 160.0, 60.0), (80, 160.0, 30.0), (10, 120.0, 5.0)])
def test_target_duration_from_speaking_rate(words: int, wpm: float, seconds: float) -> None:
    script = parse_script(" ".join(["word"] * words), words_per_minute=wpm)
    assert script.beats[0].target_duration == pytest.approx(seconds)


@pytest.mark.parametrize("kwargs", [{"fmt": "docx"}, {"words_per_minute": 0.0}, {"words_per_minute": 1000.0}])
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_script("One.", **kwargs)  # type: ignore[arg-type]


def test_json_round_trip() -> None:
    script = parse_script("# T\n\nOne. Two.\n\n## C\n\nThree.")
    assert Script.from_json(script.to_json()) == script


@needs_media
def test_real_dev_script() -> None:
    script = load_script(DEV_SCRIPT)
    assert script.title is not None and script.title.startswith("Recap: the keeper of Gull Rock")
    assert len(script.beats) == 10 and all(b.chapter == 0 for b in script.beats)
    assert script.beats[0].text.startswith("The film opens with a calm narrator")
    assert all(b.target_duration > 3 for b in script.beats)


# --- subtitles --------------------------------------------------------------------------------

SRT = """\ufeff1
00:00:01,000 --> 00:00:02,500
<i>Hello</i> there,
<b>friend</b>.

2
00:00:02,700 --> 00:00:04,000
How are you?

3
00:00:07,000 --> 00:00:09,250
{\\an8}[door slams]

4
00:00:09,500 --> 00:00:11,000
Fine &amp; well.
"""

VTT = """WEBVTT - narration
Kind: captions

NOTE a comment
spanning lines

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.500 align:start position:10%
<v Narrator>Once upon a <c.loud>time</c>.</v>

00:00:02.600 --> 00:00:04.000
<00:00:02.600>there <00:00:03.000>was a keeper.

01:00:00.000 --> 01:00:01.500
Much later.
"""


@pytest.mark.parametrize(("text", "cues"), [
    (SRT, [(1.0, 2.5, "Hello there, friend."), (2.7, 4.0, "How are you?"), (7.0, 9.25, "[door slams]"),
           (9.5, 11.0, "Fine & well.")]),
    (VTT, [(1.0, 2.5, "Once upon a time."), (2.6, 4.0, "there was a keeper."), (3600.0, 3601.5, "Much later.")]),
    (SRT.replace("\n", "\r\n"), [(1.0, 2.5, "Hello there, friend."), (2.7, 4.0, "How are you?"),
                                 (7.0, 9.25, "[door slams]"), (9.5, 11.0, "Fine & well.")]),
])
def test_read_subtitles_cases(tmp_path: Path, text: str, cues: list[tuple[float, float, str]]) -> None:
    path = tmp_path / "subs.srt"
    path.write_text(text, encoding="utf-8", newline="")
    assert [(s.start, s.end, s.text) for s in read_subtitles(path)] == cues


def test_srt_narration_script_groups_cues_into_beats() -> None:
    script = parse_script(SRT)
    # cues 1-2 (0.2 s apart) form one beat; the sound description is dropped and breaks the beat
    assert texts(script) == ["Hello there, friend. How are you?", "Fine & well."]
    assert [b.target_duration for b in script.beats] == [3.0, 1.5]


def test_vtt_narration_script() -> None:
    script = parse_script(VTT, fmt="vtt")
    assert texts(script) == ["Once upon a time. there was a keeper.", "Much later."]
    assert script.beats[0].target_duration == 3.0


def test_long_narration_splits_at_sentence_ends() -> None:
    cues = "\n\n".join(f"{i + 1}\n00:00:{i * 3:02d},000 --> 00:00:{i * 3 + 3:02d},000\nSentence number {i}."
                       for i in range(12))
    script = parse_script(cues)
    assert len(script.beats) == 2 and script.beats[0].target_duration == pytest.approx(21.0)


@needs_media
@pytest.mark.parametrize("name", ["popeye_p1.eng.srt", "popeye_p2.eng.srt", "popeye_p3.eng.srt",
                                  "popeye_p4.eng.srt"])
def test_real_popeye_srt(name: str) -> None:
    cues = read_subtitles(MEDIA / "popeye" / name)
    assert len(cues) > 5
    assert all(isinstance(c, Segment) and 0 <= c.start <= c.end for c in cues)
    assert all("<" not in c.text and "\ufeff" not in c.text and c.text for c in cues)
    assert [c.start for c in cues] == sorted(c.start for c in cues)


@needs_media
def test_real_popeye_p1_first_cues() -> None:
    cues = read_subtitles(MEDIA / "popeye" / "popeye_p1.eng.srt")
    assert (cues[0].start, cues[0].end, cues[0].text) == (0.0, 4.0, "[barking and roaring]")
    assert (cues[1].start, cues[1].end, cues[1].text) == (13.0, 16.4, "I'm Sinbad the sailor So hearty and hale")


@needs_media
def test_real_sintel_vtt() -> None:
    path = MEDIA / "sintel_full_film_en.vtt"
    cues = read_subtitles(path)
    assert (cues[0].start, cues[0].end, cues[0].text) == (0.0, 12.0, "[Test]")
    assert (cues[1].start, cues[1].end, cues[1].text) == (18.7, 21.5, "This blade has a dark past.")
    assert cues[3].text == "You're a fool for traveling alone, so completely unprepared."
    assert all("NOTE" not in c.text for c in cues)
    script = load_script(path)
    assert script.beats[0].text == "This blade has a dark past."  # the "[Test]" description is dropped


# --- limits and hostile input -----------------------------------------------------------------

@pytest.mark.parametrize("source", ["", "   \n\n\t\n", "# Only a heading\n\n## And another", "```\ncode\n```",
                                    "\u200b\u202e\n\ufeff"])
def test_empty_script(source: str) -> None:
    with pytest.raises(EmptyScriptError) as info:
        parse_script(source)
    assert info.value.code == "SCRIPT_EMPTY"


def test_empty_subtitle_script() -> None:
    with pytest.raises(EmptyScriptError):
        parse_script("WEBVTT\n\nNOTE nothing timed here\n")


@pytest.mark.parametrize(("data", "code"), [
    (b"Hello\x00world\n", "SCRIPT_BINARY"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "SCRIPT_BINARY"),
    (b"caf\xe9 latin-1 text\n", "SCRIPT_BINARY"),
    (b"", "SCRIPT_EMPTY"),
])
def test_load_script_hostile_bytes(tmp_path: Path, data: bytes, code: str) -> None:
    path = tmp_path / "script.md"
    path.write_bytes(data)
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert info.value.code == code


def test_nul_in_text_is_binary() -> None:
    with pytest.raises(BinaryScriptError):
        parse_script("Hello\x00world")


def test_utf16_with_bom_and_utf8_bom(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(codecs.BOM_UTF16_LE + "Caf\u00e9 one.\n\nTwo.".encode("utf-16-le"))
    (tmp_path / "b.md").write_bytes(codecs.BOM_UTF8 + "Caf\u00e9 one.\n\nTwo.".encode())
    for name in ("a.md", "b.md"):
        assert texts(load_script(tmp_path / name)) == ["Caf\u00e9 one.", "Two."]


def test_three_megabyte_script_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    paragraph = ("word " * 150 + "\n\n").encode()
    path.write_bytes(paragraph * (3 * 1024 * 1024 // len(paragraph) + 1))
    assert path.stat().st_size > 3 * 1024 * 1024
    with pytest.raises(ScriptTooLargeError) as info:
        load_script(path)
    assert info.value.code == "SCRIPT_TOO_LARGE"
    with pytest.raises(ScriptTooLargeError):
        parse_script("x" * (MAX_SCRIPT_BYTES + 1))
    with pytest.raises(ScriptTooLargeError):  # 2 bytes per character in UTF-8: over the limit in bytes
        parse_script("\u00e9" * (MAX_SCRIPT_BYTES // 2 + 1))


def test_beat_word_limit() -> None:
    assert len(parse_script("w " * 2000).beats) == 1
    with pytest.raises(BeatTooLongError) as info:
        parse_script("Short first.\n\n" + "w " * 2001)
    assert info.value.code == "BEAT_TOO_LONG" and "beat 1" in str(info.value)


def test_many_beats_parse_fast() -> None:
    script = parse_script("\n\n".join(f"Paragraph {i} about *something* [here](x)." for i in range(20000)))
    assert len(script.beats) == 20000 and script.beats[-1].text == "Paragraph 19999 about something here."


# --- timing from a narration ------------------------------------------------------------------

def _transcript(words: list[tuple[str, float, float]], duration: float) -> Transcript:
    ws = tuple(Word(s, e, t) for t, s, e in words)
    return Transcript("en", duration, (Segment(ws[0].start, ws[-1].end, " ".join(w.text for w in ws), ws),))


def test_narration_timing_cuts_in_the_pause() -> None:
    script = parse_script("Hello big world.\n\nSecond beat here.")
    transcript = _transcript([("Hello", 0.5, 0.9), ("big", 0.9, 1.2), ("world.", 1.2, 1.6),
                              ("Second", 2.4, 2.8), ("beat", 2.8, 3.0), ("here.", 3.0, 3.5)], 4.0)
    timed, spans = time_beats_from_narration(script, transcript)
    assert spans == [BeatSpan(0, 0.0, 2.0, 1.0), BeatSpan(1, 2.0, 4.0, 1.0)]
    assert [b.target_duration for b in timed.beats] == [2.0, 2.0]
    assert texts(timed) == texts(script)


def test_narration_timing_survives_asr_errors_and_unheard_beats() -> None:
    script = parse_script("The keeper Elias lights the lamp.\n\nNobody hears this part.\n\nNora comes home at dawn.")
    # ASR got a name wrong, and skipped the middle beat altogether
    transcript = _transcript([("The", 0.0, 0.2), ("keeper", 0.2, 0.6), ("Elias", 0.6, 1.0), ("lights", 1.0, 1.3),
                              ("the", 1.3, 1.4), ("lamp.", 1.4, 1.8), ("Norah", 5.0, 5.4), ("comes", 5.4, 5.7),
                              ("home", 5.7, 6.0), ("at", 6.0, 6.1), ("dawn.", 6.1, 6.5)], 7.0)
    _, spans = time_beats_from_narration(script, transcript)
    assert [s.index for s in spans] == [0, 1, 2]
    assert spans[0].start == 0.0 and spans[-1].end == 7.0
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert 1.8 <= spans[0].end < spans[1].end <= 5.0  # the unheard beat sits in the gap between its neighbours
    assert spans[1].matched == 0.0 and spans[2].matched == pytest.approx(4 / 5)
    assert BeatSpan.from_json(spans[2].to_json()) == spans[2]


def test_narration_timing_without_words_splits_by_length() -> None:
    script = parse_script("One two three four.\n\nFive six.")
    _, spans = time_beats_from_narration(script, Transcript("en", 6.0, ()))
    assert spans[0].end == pytest.approx(4.0) and spans[1].end == 6.0
    assert all(s.matched == 0.0 for s in spans)


def test_narration_audio_moves_the_cut_into_the_silence() -> None:
    # The ASR made the words touch (a common blur); the audio shows the pause is 1.3-1.9 s.
    script = parse_script("Hello world.\n\nNext beat.")
    transcript = _transcript([("Hello", 0.2, 1.0), ("world.", 1.0, 2.0), ("Next", 2.0, 2.6), ("beat.", 2.6, 3.0)],
                             3.0)
    rng = np.random.default_rng(1)
    audio = (0.3 * rng.standard_normal(3 * 16000)).astype(np.float32)
    audio[int(1.3 * 16000): int(1.9 * 16000)] = 0.0
    _, blurred = time_beats_from_narration(script, transcript)
    _, sharp = time_beats_from_narration(script, transcript, audio)
    assert blurred[0].end == 2.0
    assert 1.3 < sharp[0].end < 1.9 and sharp[1].start == sharp[0].end


@needs_media
def test_narration_timing_on_real_speech() -> None:
    from media.speech import FasterWhisperTranscriber, extract_audio

    # jfk.flac read as the narration of a two-paragraph script; the pause between "...for you" and the
    # second "ask" lies between 7.45 s and 8.15 s of the recording (measured from its energy).
    script = parse_script("And so, my fellow Americans, ask not what your country can do for you,\n\n"
                          "ask what you can do for your country.")
    transcript = FasterWhisperTranscriber().transcribe(MEDIA / "jfk.flac")
    timed, spans = time_beats_from_narration(script, transcript)
    assert 7.4 <= spans[0].end <= 8.2 and spans[1].start == spans[0].end
    assert spans[1].end == pytest.approx(11.0, abs=0.05)
    assert timed.beats[0].target_duration == pytest.approx(spans[0].end, abs=1e-3)
    assert all(s.matched >= 0.9 for s in spans)
    audio = extract_audio(MEDIA / "jfk.flac")
    _, sharp = time_beats_from_narration(script, transcript, audio)
    cut = sharp[0].end
    assert 7.45 <= cut <= 8.15
    around = audio[int((cut - 0.05) * 16000): int((cut + 0.05) * 16000)]
    assert 20 * np.log10(np.sqrt(np.mean(np.square(around)))) < -30  # the cut lies in the pause (-36 dBFS)
