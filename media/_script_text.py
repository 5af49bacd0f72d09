"""Text clean-up for recap scripts (private): unicode normalisation, Markdown stripping, sentences, tokens."""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\ufe63": "-", "\uff0d": "-",
    "\u2014": " - ", "\u2015": " - ",
    "\u2028": "\n", "\u2029": "\n\n", "\u0085": "\n", "\t": " ",
})
# Bidi embeddings/overrides/isolates and marks, zero-width characters, the BOM: invisible, and a way to
# make text read differently from how it is stored (Trojan Source), so they go.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \u00a0]{2,}")

_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "prof", "capt", "lt", "sgt", "gen", "col", "rev", "mt",
    "no", "etc", "e.g", "i.e", "approx", "fig", "vol",
})
_SENTENCE_END = re.compile(r"""(?<=[.!?\u2026])(["')\]]*)\s+(?=["'(\[]?[A-Z0-9\u00c0-\u024f])""")


def normalise(text: str) -> str:
    """NFKC, straight quotes, plain dashes, no control or bidi characters, ``\\n`` line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _INVISIBLE.sub("", text)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


# --- Markdown -------------------------------------------------------------------------------

_MD_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),                 # image -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),                  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),                 # [text][ref]
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),          # <autolink>
    (re.compile(r"</?[A-Za-z][^<>]*>"), ""),                       # inline HTML tags
    (re.compile(r"`+([^`]+?)`+"), r"\1"),                           # `code`
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),           # **bold**, __bold__
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),                 # ~~strike~~
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *em*
    (re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),    # _em_ (not snake_case)
)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")
_PROTECT = 0xE000  # escaped characters hide in the private-use area while the patterns run
_MD_LINE_PREFIX = re.compile(r"^\s{0,3}(?:>\s?)+|^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_FRONT_MATTER = re.compile(r"\A---\n.*?\n(?:---|\.\.\.)\n", re.S)
RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")


def strip_markdown_blocks(text: str) -> str:
    """Drop what is never narration: front matter, HTML comments, fenced code."""
    text = _FRONT_MATTER.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    return _FENCE.sub("", text)


def strip_markdown_line(line: str) -> str | None:
    """One body line without its Markdown; None when the line is a link reference definition."""
    if _MD_REF_DEF.match(line):
        return None
    line = _MD_LINE_PREFIX.sub("", line)
    line = _MD_ESCAPE.sub(lambda m: chr(_PROTECT + ord(m.group(1))), line)
    for pattern, repl in _MD_INLINE:
        line = pattern.sub(repl, line)
    return "".join(chr(ord(c) - _PROTECT) if _PROTECT <= ord(c) < _PROTECT + 128 else c for c in line).strip()


# --- sentences and words --------------------------------------------------------------------

def split_sentences(text: str) -> tuple[str, ...]:
    """Split on ., !, ? or ... followed by a capital or digit, not after common abbreviations."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start:match.start()]
        last = head.rsplit(None, 1)[-1].lower().rstrip(".") if head.strip() else ""
        if not match.group(1) and (last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())):
            continue  # "Mr. Dashwood", "J. R. R. Tolkien"
        out.append(text[start:match.end(1)].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return tuple(s for s in out if s)


def word_count(text: str) -> int:
    return len(text.split())


_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Case-folded letter/digit runs with apostrophes removed: what an ASR word and a script word share."""
    return _TOKEN.findall(text.casefold().replace("'", ""))
