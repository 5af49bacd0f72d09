"""Normalisation and validation of user-supplied text: names, emails, UUID ids.

Names are NFC-normalised and trimmed; control characters (Unicode category Cc, e.g. NUL, ESC, newline),
format characters used for spoofing (bidi overrides and isolates, zero-width joiners/spaces, BOM) and
private-use/unassigned code points are REFUSED with a ValidationError naming the field, never silently
stripped, so what is stored is exactly what the client sees.

    name = clean_name(" Café ", field="name")       # "Café"
    email = clean_email("Ann@Example.COM")           # "ann@example.com" (normalize_email + a format check)
"""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID

from app.errors import NotFoundError, ValidationError

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}


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
