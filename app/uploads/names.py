"""File-name sanitising: what a user calls a file becomes a safe display name, never a path.

The result has no control or bidirectional-override characters, no path separators, no
leading dots or spaces, is NFC-normalised and at most 255 UTF-8 bytes (extension kept).

    sanitize_filename("../../etc/passwd")            # "etc_passwd"
    sanitize_filename("movie\u202egnp.exe")           # "moviegnp.exe"
    sanitize_filename("")                            # "upload"
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255
FALLBACK = "upload"
_WHITESPACE = re.compile(r"\s+")
#: Unicode categories dropped: controls, format (incl. RTL/LTR overrides, zero-width), surrogates,
#: private use, unassigned.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _truncate(name: str, limit: int) -> str:
    """Cut ``name`` to ``limit`` UTF-8 bytes, keeping a short extension."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext.encode()) <= 16 else ""
    base = stem if suffix else name
    budget = limit - len(suffix.encode())
    out = base.encode()[:budget].decode("utf-8", errors="ignore")
    return out.rstrip(" .") + suffix


def sanitize_filename(raw: str | None, *, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A display-safe version of ``raw`` (see the module docstring); never empty."""
    if not raw:
        return FALLBACK
    if len(raw) > 16 * max_bytes:  # bound the work; the tail keeps the extension
        raw = raw[: 8 * max_bytes] + raw[-8 * max_bytes:]
    text = unicodedata.normalize("NFC", raw)
    text = re.sub(r"[\t\n\r\v\f]", " ", text)  # whitespace controls separate words; other controls go
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)
    parts = [p for p in re.split(r"[/\\]+", text) if p.strip() not in ("", ".", "..")]
    text = "_".join(p.strip() for p in parts)
    text = _WHITESPACE.sub(" ", text).strip().lstrip(".").strip()
    text = text.replace(":", "_")
    text = _truncate(text, max_bytes)
    return text or FALLBACK
