"""Access tokens, password hashing and policy, text normalisation: pure units (no database)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from app.auth.passwords import (
    check_password_policy,
    hash_password,
    hash_password_sync,
    password_hasher,
    verify_password,
)
from app.auth.tokens import bearer_token, decode_access_token, issue_access_token, signing_key
from app.config import AuthSettings
from app.errors import AuthError, NotFoundError, ValidationError
from app.models.enums import Role
from app.services.text import clean_email, clean_name, parse_id

AUTH = AuthSettings(jwt_secret="unit-test-secret-that-is-long-enough-000", argon2_time_cost=1,
                    argon2_memory_kib=1024)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**over: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {"iss": AUTH.issuer, "aud": AUTH.audience, "sub": str(uuid.uuid4()),
                               "tid": str(uuid.uuid4()), "role": "editor", "jti": "x", "iat": now, "exp": now + 60}
    base.update(over)
    return base


def test_round_trip_carries_user_tenant_role_and_platform_flag() -> None:
    user, tenant = uuid.uuid4(), uuid.uuid4()
    token = issue_access_token(user, tenant, Role.ADMIN, is_platform_admin=True, settings=AUTH)
    principal = decode_access_token(token, settings=AUTH)
    assert (principal.user_id, principal.tenant_id, principal.role, principal.is_platform_admin) == (
        user, tenant, Role.ADMIN, True)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == AUTH.access_ttl_seconds
    assert len(str(claims["jti"])) == 32


def test_expired_token_is_refused() -> None:
    token = issue_access_token(uuid.uuid4(), uuid.uuid4(), Role.OWNER, settings=AUTH, ttl_seconds=-60)
    with pytest.raises(AuthError, match="expired"):
        decode_access_token(token, settings=AUTH)


def test_alg_none_token_is_refused() -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(AuthError):
        decode_access_token(token, settings=AUTH)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithm_with_the_right_key_is_refused(algorithm: str) -> None:
    token = jwt.encode(_claims(), signing_key(AUTH.jwt_secret), algorithm=algorithm)
    with pytest.raises(AuthError):
        decode_access_token(token, settings=AUTH)


@pytest.mark.parametrize(("field", "value"), [("iss", "someone-else"), ("aud", "other-api")])
def test_wrong_issuer_or_audience_is_refused(field: str, value: str) -> None:
    token = jwt.encode(_claims(**{field: value}), signing_key(AUTH.jwt_secret), algorithm="HS256")
    with pytest.raises(AuthError):
        decode_access_token(token, settings=AUTH)


@pytest.mark.parametrize("missing", ["sub", "tid", "role", "exp", "jti"])
def test_missing_claim_is_refused(missing: str) -> None:
    claims = _claims()
    del claims[missing]
    token = jwt.encode(claims, signing_key(AUTH.jwt_secret), algorithm="HS256")
    with pytest.raises(AuthError):
        decode_access_token(token, settings=AUTH)


def test_bad_role_value_is_refused() -> None:
    token = jwt.encode(_claims(role="god"), signing_key(AUTH.jwt_secret), algorithm="HS256")
    with pytest.raises(AuthError):
        decode_access_token(token, settings=AUTH)


def test_tampered_payload_and_foreign_key_are_refused() -> None:
    token = issue_access_token(uuid.uuid4(), uuid.uuid4(), Role.VIEWER, settings=AUTH)
    header, _, signature = token.split(".")
    forged = f"{header}.{_b64(_claims(role='owner'))}.{signature}"
    with pytest.raises(AuthError):
        decode_access_token(forged, settings=AUTH)
    other = AuthSettings(jwt_secret="another-secret-another-secret-another-1")
    with pytest.raises(AuthError):
        decode_access_token(token, settings=other)
    with pytest.raises(AuthError):
        decode_access_token("not.a.jwt", settings=AUTH)


@pytest.mark.parametrize(("header", "expected"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), (None, None), ("", None),
])
def test_bearer_header_parsing(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


@pytest.mark.parametrize(("password", "email", "ok"), [
    ("Correct-Horse-42", "ann@example.com", True),
    ("longpassphrase with space", "", True),       # lower + other
    ("short1A!", "", False),                       # too short
    ("alllowercaseletters", "", False),            # one class
    ("12345678901234", "", False),                 # one class
    ("Ann@Example.com", "ann@example.com", False), # the email
    ("annabelle-lee", "annabelle-lee@example.com", False),  # the local part
    ("x" * 300 + "A1", "", False),                 # too long
])
def test_password_policy(password: str, email: str, ok: bool) -> None:
    if ok:
        check_password_policy(password, email)
    else:
        with pytest.raises(ValidationError) as info:
            check_password_policy(password, email)
        assert info.value.field == "password"
        assert info.value.code == "VALIDATION_FAILED"


@pytest.mark.parametrize("password", [
    "aaaaaaaaa1", "Password123", "qwertyuiop1", "Summer2024!", "nope-nope-1", "Annabelle2024", "1234567890a",
])
def test_weak_and_common_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_password_policy(password, "annabelle@example.com")
    assert (info.value.code, info.value.field) == ("WEAK_PASSWORD", "password")
    assert "too weak" in info.value.message


def test_a_long_strong_password_passes_with_only_a_prefix_scored() -> None:
    check_password_policy("Tidal-Lantern-Quartz-88" + "x" * 200, "ann@example.com")  # only a prefix is scored


async def test_argon2_hash_verify_and_rehash_on_new_parameters() -> None:
    hasher = password_hasher(AUTH)
    stored = await hash_password(hasher, "Correct-Horse-42")
    assert stored.startswith("$argon2id$")
    assert await verify_password(hasher, stored, "Correct-Horse-42") == (True, None)
    assert await verify_password(hasher, stored, "wrong-Horse-42") == (False, None)
    stronger = password_hasher(AuthSettings(argon2_time_cost=2, argon2_memory_kib=2048))
    ok, new_hash = await verify_password(stronger, stored, "Correct-Horse-42")
    assert ok and new_hash is not None and new_hash != stored and "t=2" in new_hash
    assert await verify_password(hasher, "not-a-hash", "x") == (False, None)
    assert hash_password_sync(hasher, "a") != hash_password_sync(hasher, "a")  # salted


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Café  ", "Café"), ("Cafe\u0301", "Café"), ("日本語のプロジェクト", "日本語のプロジェクト"),
    ("🎬 Recap", "🎬 Recap"),
])
def test_names_are_nfc_normalised_and_trimmed(raw: str, expected: str) -> None:
    assert clean_name(raw) == expected


@pytest.mark.parametrize("raw", ["a\x00b", "tab\tname", "line\nbreak", "esc\x1b[31m", "bidi\u202egnp.exe",
                                 "iso\u2066late", "zero\u200bwidth", "", "   ", "x" * 201, "bom\ufeff"])
def test_bad_names_are_refused_with_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        clean_name(raw, field="name")
    assert info.value.field == "name"


@pytest.mark.parametrize(("raw", "expected"), [
    (" Ann@Example.COM ", "ann@example.com"), ("ann@example.com\n", "ann@example.com"),
    ("a.b+tag@sub.example.org", "a.b+tag@sub.example.org"),
])
def test_good_emails(raw: str, expected: str) -> None:
    assert clean_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "plain", "@example.com", "a@", "a@b", "a b@example.com", "a@-x.com",
                                 "a@exam\nple.com", "a@example.com\nx", "x" * 65 + "@example.com", "a@exa_mple.com"])
def test_bad_emails(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        clean_email(raw)
    assert info.value.field == "email"


def test_malformed_ids_are_not_found() -> None:
    good = uuid.uuid4()
    assert parse_id(str(good)) == good
    with pytest.raises(NotFoundError):
        parse_id("1 OR 1=1", what="project")
