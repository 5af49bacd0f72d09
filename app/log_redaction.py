"""Privacy-compliant logs: e-mail addresses, bearer/JWT tokens, IP addresses and signed-URL query
strings never reach a log line in clear.

    from app.log_redaction import install_redaction, redact
    install_redaction()                      # API and workers call it at start-up (idempotent)
    redact("login a@b.io from 10.0.0.1")     # -> "login [email] from [ip]"

The redaction runs in the log-record factory, so every handler (stream, Sentry breadcrumbs,
pytest's capture) sees the redacted message; exception text is redacted by a filter on the
root handlers. Redaction is a safety net: code should still not log secrets on purpose.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Password hashes (the ORM's DEBUG log prints query parameters).
    (re.compile(r"\$argon2[a-z]*\$[^\s'\"]+"), "[hash]"),
    # JWTs (three base64url parts, the first starting with eyJ) before anything else eats their dots.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)\b(bearer|token|authorization|password|secret|refresh_token|access_token)"
                r"([\"']?\s*[:=]\s*[\"']?|\s+)([^\s\"',;&]{6,})"), r"\1\2[secret]"),
    # Query strings of URLs (signed links carry their signature and expiry there).
    (re.compile(r"(https?://[^\s?#\"']+)\?[^\s\"']*"), r"\1?[query]"),
    (re.compile(r"(/(?:downloads|files|exports|signed)/[^\s?\"']*)\?[^\s\"']*"), r"\1?[query]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"), "[ip]"),
    # IPv6: eight groups, or fewer with one "::" (clock times like 12:30:45 are not touched).
    (re.compile(r"(?i)(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
                r"|(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})"
                r"(?![\w:])"), "[ip]"),
)

_installed = False


def redact(text: str) -> str:
    """``text`` with e-mails, tokens, IP addresses and URL query strings masked."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Format the record's message once, redacted, and drop the arguments."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw pieces, redacted
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), ()


class RedactingFilter(logging.Filter):
    """A handler filter: redacts the message and the formatted exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_redaction() -> None:
    """Redact every log record at creation, and exception text on the root handlers (idempotent)."""
    global _installed
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
