"""File-name sanitising: known answers for hostile and ordinary names."""

from __future__ import annotations

import pytest

from app.uploads.names import sanitize_filename


@pytest.mark.parametrize(("raw", "expected"), [
    ("movie.mp4", "movie.mp4"),
    ("../../etc/passwd", "etc_passwd"),
    ("/etc/shadow", "etc_shadow"),
    ("C:\\Windows\\cmd.exe", "C__Windows_cmd.exe"),
    ("movie\u202egnp.exe", "moviegnp.exe"),
    ("a\x00b.txt", "ab.txt"),
    ("  .hidden  ", "hidden"),
    ("...", "upload"),
    ("", "upload"),
    (None, "upload"),
    ("a  b\tc.mp4", "a b c.mp4"),
    ("zero\u200bwidth.mkv", "zerowidth.mkv"),
    ("Ame\u0301lie.mkv", "Am\u00e9lie.mkv"),
    ("名前.mp4", "名前.mp4"),
])
def test_known_answers(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected


@pytest.mark.parametrize("raw", ["x" * 10_000 + ".mp4", "\u00e9" * 5000 + ".mov", "y" * 300])
def test_long_names_cut_to_255_bytes_keeping_extension(raw: str) -> None:
    out = sanitize_filename(raw)
    assert len(out.encode()) <= 255
    out.encode().decode("utf-8")  # never a broken multi-byte character
    if "." in raw:
        assert out.endswith(raw[raw.rfind("."):])
