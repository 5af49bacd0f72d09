"""argon2id password hashing and the password policy.

Hashing costs tens of milliseconds of CPU, so the async helpers run it in a thread.

    hasher = password_hasher(settings.auth)
    check_password_policy(password, email)          # raises ValidationError(field="password"); code
                                                    # WEAK_PASSWORD when zxcvbn finds it guessable
    ok, new_hash = await verify_password(hasher, stored_hash, password)   # new_hash set when params changed
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from app.config import AuthSettings
from app.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
#: zxcvbn score (0-4) a password needs: 3 = "safely unguessable: moderate protection from offline slow-hash
#: attacks" (about 10^8 guesses or more), which argon2id then makes expensive.
MIN_STRENGTH_SCORE = 3
#: zxcvbn's cost grows with the length; what lies past this prefix only adds strength.
_STRENGTH_PREFIX = 64
WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 - an error code, not a password
#: argon2 accepts anything, but a megabyte password is a denial-of-service lever.
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def password_hasher(auth: AuthSettings) -> PasswordHasher:
    """The argon2id hasher for the configured cost parameters (cached)."""
    return _hasher(auth.argon2_time_cost, auth.argon2_memory_kib)


def _classes(password: str) -> int:
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))


def check_password_policy(password: str, email: str = "") -> None:
    """Raise ValidationError(field="password") unless ``password`` is acceptable.

    Rules: 10 to 256 characters, at least two character classes (lower, upper, digit, other),
    not the email address nor its local part (code VALIDATION_FAILED), and not guessable: zxcvbn (common
    passwords, dictionary words, repeats like ``aaaaaaaaa1``, keyboard walks, dates, the email's parts)
    must score at least MIN_STRENGTH_SCORE (code WEAK_PASSWORD).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password must have at least {MIN_PASSWORD_LENGTH} characters", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"password must have at most {MAX_PASSWORD_LENGTH} characters", "password")
    if _classes(password) < 2:
        raise ValidationError("password must mix at least two of: lower case, upper case, digits, symbols",
                              "password")
    lowered = password.casefold()
    email = email.strip().casefold()
    if email and (lowered == email or lowered == email.partition("@")[0]):
        raise ValidationError("password must not be your email address", "password")
    _check_strength(password, email)


def _check_strength(password: str, email: str) -> None:
    hints = [part for part in (email, email.partition("@")[0]) if part]
    result = zxcvbn(password[:_STRENGTH_PREFIX], user_inputs=hints)
    if int(result["score"]) < MIN_STRENGTH_SCORE:
        feedback = result.get("feedback") or {}
        reason = feedback.get("warning") or "it is easy to guess"
        advice = " ".join(feedback.get("suggestions") or []) or "Use a few uncommon words together."
        raise ValidationError(f"password is too weak: {reason.rstrip('.')}. {advice}", "password",
                              code=WEAK_PASSWORD)


def hash_password_sync(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    """argon2id hash of ``password`` (in a worker thread)."""
    return await asyncio.to_thread(hasher.hash, password)


def _verify(hasher: PasswordHasher, stored: str, password: str) -> tuple[bool, str | None]:
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (hasher.hash(password) if hasher.check_needs_rehash(stored) else None)


async def verify_password(hasher: PasswordHasher, stored: str, password: str) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one used other parameters) - in a worker thread."""
    return await asyncio.to_thread(_verify, hasher, stored, password)


@lru_cache(maxsize=4)
def dummy_hash(time_cost: int, memory_kib: int) -> str:
    """A hash to verify against when the account does not exist, so timing does not reveal it."""
    return _hasher(time_cost, memory_kib).hash("recap-dummy-password-for-timing")
