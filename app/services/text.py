"""Normalisation and validation of user-supplied text: names, emails, UUID ids, scripts.

Names are NFC-normalised and trimmed; control characters (Unicode category Cc, e.g. NUL, ESC, newline),
format characters used for spoofing (bidi overrides and isolates, zero-width joiners/spaces, BOM) and
private-use/unassigned code points are REFUSED with a ValidationError naming the field, never silently
stripped, so what is stored is exactly what the client sees.

    name = clean_name(" Café ", field="name")       # "Café"
    email = clean_email("Ann@Example.COM")           # "ann@example.com" (normalize_email + a format check)
    slug = slugify("Café Films")                      # "cafe-films-3f9a1c" (unique=False: "cafe-films")
    script = check_script_text(text)                  # NUL / control characters / over 2 MB: ValidationError
    ids = parse_uuids(["…"], field="sourceAssetIds")  # a malformed id: ValidationError(field)

Scripts keep every printable character (bidi marks belong to right-to-left scripts) but refuse C0/C1
controls other than newline, carriage return and tab, lone surrogates, and more than MAX_SCRIPT_BYTES.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from uuid import UUID

from app.errors import NotFoundError, ValidationError
from media.types import MAX_SCRIPT_BYTES

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
_SCRIPT_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_name(value: str, *, field: str = "name", max_length: int = 200, allow_empty: bool = False) -> str:
    """NFC-normalised, trimmed ``value``; ValidationError(field) for control/format chars or bad length."""
    text = unicodedata.normalize("NFC", value).strip()
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValidationError(f"{field} contains a control or formatting character (U+{ord(char):04X})", field)
    if not text and not allow_empty:
        raise ValidationError(f"{field} must not be empty", field)
    if len(text) > max_length:
        raise ValidationError(f"{field} must have at most {max_length} characters", field)
    return text


def clean_text(value: str, *, field: str, max_length: int = 10_000) -> str:
    """Free text (descriptions): like clean_name but newlines and tabs are allowed and it may be empty."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    for char in text:
        if char not in "\n\t" and unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValidationError(f"{field} contains a control or formatting character (U+{ord(char):04X})", field)
    if len(text) > max_length:
        raise ValidationError(f"{field} must have at most {max_length} characters", field)
    return text


def normalize_email(value: str) -> str:
    """THE normal form of an email address (API, CLI, login throttle, invitations): trimmed, case-folded.

    The address pattern admits ASCII only, where ``casefold`` and ``lower`` agree; ``casefold`` also
    keeps look-alikes such as the Kelvin sign (U+212A) from passing as a different account.
    """
    return unicodedata.normalize("NFC", value).strip().casefold()


def could_be_email(normalized: str) -> bool:
    """Whether a :func:`normalize_email` result can name an account (lookups skip the rest: NUL cannot reach SQL)."""
    return len(normalized) <= 320 and _EMAIL.fullmatch(normalized) is not None


def clean_email(value: str, *, field: str = "email") -> str:
    """:func:`normalize_email` of ``value``; ValidationError(field) unless it looks like ``local@domain.tld``."""
    email = normalize_email(value)
    if len(email) > 320 or not _EMAIL.fullmatch(email) or len(email.partition("@")[0]) > 64:
        raise ValidationError("not a valid email address", field)
    return email


def parse_id(value: str | UUID, *, what: str = "object", field: str = "id") -> UUID:
    """A UUID from a client id; a malformed one is 'not found' (it cannot name anything)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError as ex:
        raise NotFoundError(f"{what} not found", field) from ex


def check_script_text(value: str, *, field: str = "scriptText") -> str:
    """``value`` unchanged when it is storable script text; ValidationError(field) otherwise."""
    bad = _SCRIPT_REFUSED.search(value)
    if bad is not None:
        raise ValidationError(f"{field} contains a control character (U+{ord(bad.group()):04X})", field)
    if len(value) > MAX_SCRIPT_BYTES or len(value.encode("utf-8")) > MAX_SCRIPT_BYTES:
        raise ValidationError(f"{field} is over {MAX_SCRIPT_BYTES // (1024 * 1024)} MB", field)
    return value


def parse_uuids(values: list[str], *, field: str, limit: int = 100) -> list[str]:
    """Canonical ids from client ids that must be UUIDs; ValidationError(field) for a malformed or repeated one."""
    if len(values) > limit:
        raise ValidationError(f"{field} takes at most {limit} ids", field)
    ids: list[str] = []
    for value in values:
        try:
            ids.append(str(UUID(str(value))))
        except ValueError:
            raise ValidationError(f"{field}: {str(value)[:40]!r} is not an id", field) from None
    if len(set(ids)) != len(ids):
        raise ValidationError(f"{field} names an id twice", field)
    return ids


def slugify(name: str, *, unique: bool = True) -> str:
    """URL-safe ASCII slug of a name (``tenant`` when nothing is left); ``unique`` adds a random suffix."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "tenant"
    return f"{base}-{secrets.token_hex(3)}" if unique else base
