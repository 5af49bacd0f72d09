"""Auth flows over /graphql: register, login, throttling, refresh rotation and reuse, logout, token checks."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from app.auth.passwords import hash_password_sync, password_hasher
from app.auth.tokens import issue_access_token, signing_key
from app.config import AuthSettings, Settings
from app.db import system_tx
from app.models import AuditEvent, Membership, RefreshToken, Role, User
from tests.conftest import TEST_PASSWORD
from tests.graphql.conftest import LOGIN, ME, REFRESH, REGISTER, Gql, new_email, payload, top_code

PASSWORD = "Correct-Horse-42"


async def register(gql: Gql, email: str | None = None, tenant: str = "Studio") -> dict[str, Any]:
    body = await gql(REGISTER, {"email": email or new_email(), "password": PASSWORD, "displayName": "Ann",
                                "tenantName": tenant})
    return payload(body, "register")


async def test_register_creates_user_tenant_owner_and_session(gql: Gql) -> None:
    email = new_email()
    result = await register(gql, email.upper(), tenant="Ann's Studio")
    assert result["__typename"] == "AuthPayload"
    assert result["role"] == "OWNER" and result["tokenType"] == "Bearer" and result["expiresIn"] == 900
    assert result["user"]["email"] == email  # stored lower-cased
    me = payload(await gql(ME, token=result["accessToken"]), "me")
    assert me["tenantId"] == result["tenantId"] and me["role"] == "OWNER"
    assert me["memberships"] == [{"tenantId": result["tenantId"], "tenantName": "Ann's Studio", "role": "OWNER"}]
    async with system_tx():
        user = await User.get(email=email)
        assert user.password_hash.startswith("$argon2id$")
        assert await Membership.filter(user_id=user.id, role=Role.OWNER).count() == 1


async def test_login_refresh_rotation_and_reuse_revokes_family(gql: Gql, redis_client: Any) -> None:
    email = new_email()
    await register(gql, email)
    first = payload(await gql(LOGIN, {"email": email, "password": PASSWORD}), "login")
    assert first["__typename"] == "AuthPayload"
    second = payload(await gql(REFRESH, {"token": first["refreshToken"]}), "refreshToken")
    assert second["__typename"] == "AuthPayload" and second["refreshToken"] != first["refreshToken"]
    assert payload(await gql(ME, token=second["accessToken"]), "me")["role"] == "OWNER"
    # The spent token comes back: the family is revoked, the newest token dies too.
    reused = payload(await gql(REFRESH, {"token": first["refreshToken"]}), "refreshToken")
    assert reused["__typename"] == "TokenReusedError" and reused["code"] == "TOKEN_REUSED"
    after = payload(await gql(REFRESH, {"token": second["refreshToken"]}), "refreshToken")
    assert after["__typename"] == "UnauthenticatedError" and after["code"] == "UNAUTHENTICATED"
    async with system_tx():
        rows = await RefreshToken.filter(token_hash=hashlib.sha256(second["refreshToken"].encode()).hexdigest())
        assert len(rows) == 1 and rows[0].revoked_at is not None
        stored = [t.token_hash for t in await RefreshToken.filter(family=rows[0].family)]
        assert len(stored) == 2 and all(len(h) == 64 and int(h, 16) >= 0 for h in stored)  # only sha256 stored
        actions = {a.action for a in await AuditEvent.filter(actor_id=rows[0].user_id)}  # type: ignore[attr-defined]
    assert {"user.registered", "login", "refresh.reused"} <= actions


async def test_logout_revokes_the_session(gql: Gql) -> None:
    session = await register(gql)
    body = await gql("mutation($t: String!) { logout(refreshToken: $t) { ok } }", {"t": session["refreshToken"]})
    assert payload(body, "logout") == {"ok": True}
    again = payload(await gql(REFRESH, {"token": session["refreshToken"]}), "refreshToken")
    assert again["code"] == "UNAUTHENTICATED"
    unknown = await gql("mutation { logout(refreshToken: \"rt1.nope.nope\") { ok } }")
    assert payload(unknown, "logout") == {"ok": True}
    async with system_tx():
        assert await AuditEvent.filter(action="logout", tenant_id=uuid.UUID(session["tenantId"])).exists()


@pytest.mark.parametrize("token", ["garbage", "rt1.00.x", "", "rt1." + "0" * 32 + ".forged"])
async def test_refresh_with_unknown_token_is_unauthenticated(gql: Gql, token: str) -> None:
    result = payload(await gql(REFRESH, {"token": token}), "refreshToken")
    assert result["__typename"] == "UnauthenticatedError"


async def test_wrong_password_and_unknown_account_look_the_same(gql: Gql, redis_client: Any) -> None:
    email = new_email()
    await register(gql, email)
    wrong = payload(await gql(LOGIN, {"email": email, "password": "Wrong-Horse-42"}), "login")
    nobody = payload(await gql(LOGIN, {"email": new_email(), "password": PASSWORD}), "login")
    assert wrong["__typename"] == nobody["__typename"] == "UnauthenticatedError"
    assert wrong["message"] == nobody["message"]


async def test_login_is_throttled_per_account(gql: Gql, redis_client: Any, settings: Settings) -> None:
    email = new_email()
    await register(gql, email)
    for _ in range(settings.auth.login_max_attempts):
        result = payload(await gql(LOGIN, {"email": email, "password": "Wrong-Horse-42"}), "login")
        assert result["code"] == "UNAUTHENTICATED"
    limited = payload(await gql(LOGIN, {"email": email, "password": PASSWORD}), "login")
    assert limited["__typename"] == "RateLimitedError" and limited["code"] == "RATE_LIMITED"
    assert 0 < limited["retryAfter"] <= settings.auth.login_window_seconds
    other = new_email()
    await register(gql, other)  # another account from the same IP still logs in
    assert payload(await gql(LOGIN, {"email": other, "password": PASSWORD}), "login")["__typename"] == "AuthPayload"


async def test_login_is_throttled_per_ip(gql: Gql, redis_client: Any, settings: Settings) -> None:
    from app.auth.throttle import IP_FACTOR

    for _ in range(settings.auth.login_max_attempts * IP_FACTOR):
        result = payload(await gql(LOGIN, {"email": new_email(), "password": "Wrong-Horse-42"}), "login")
        assert result["code"] == "UNAUTHENTICATED"
    email = new_email()
    await register(gql, email)
    assert payload(await gql(LOGIN, {"email": email, "password": PASSWORD}), "login")["code"] == "RATE_LIMITED"


async def test_login_into_a_chosen_tenant_and_not_into_foreign_ones(gql: Gql, tenant_factory: Any,
                                                                    user_factory: Any, redis_client: Any) -> None:
    home, other, foreign = await tenant_factory(), await tenant_factory(), await tenant_factory()
    user, _ = await user_factory(home, Role.VIEWER)
    async with system_tx():
        await Membership.create(tenant_id=other.id, user_id=user.id, role=Role.ADMIN)
    chosen = payload(await gql(LOGIN, {"email": user.email, "password": TEST_PASSWORD, "tenantId": str(other.id)}),
                     "login")
    assert chosen["tenantId"] == str(other.id) and chosen["role"] == "ADMIN"
    default = payload(await gql(LOGIN, {"email": user.email, "password": TEST_PASSWORD}), "login")
    assert default["tenantId"] == str(home.id) and default["role"] == "VIEWER"
    refused = payload(await gql(LOGIN, {"email": user.email, "password": TEST_PASSWORD,
                                        "tenantId": str(foreign.id)}), "login")
    assert refused["code"] == "UNAUTHENTICATED"
    switched = payload(await gql("mutation($t: ID!) { switchTenant(tenantId: $t) { __typename "
                                 "... on AuthPayload { role tenantId } ... on Error { code } } }",
                                 {"t": str(other.id)}, token=default["accessToken"]), "switchTenant")
    assert switched == {"__typename": "AuthPayload", "role": "ADMIN", "tenantId": str(other.id)}


async def test_password_is_rehashed_when_parameters_change(gql: Gql, tenant_factory: Any, settings: Settings,
                                                           redis_client: Any) -> None:
    tenant = await tenant_factory()
    old = password_hasher(AuthSettings(argon2_time_cost=2, argon2_memory_kib=2048))
    async with system_tx():
        user = await User.create(email=new_email(), password_hash=hash_password_sync(old, PASSWORD))
        await Membership.create(tenant_id=tenant.id, user_id=user.id, role=Role.EDITOR)
    result = payload(await gql(LOGIN, {"email": user.email, "password": PASSWORD}), "login")
    assert result["__typename"] == "AuthPayload"
    async with system_tx():
        fresh = await User.get(id=user.id)
    assert fresh.password_hash != user.password_hash
    assert f"t={settings.auth.argon2_time_cost}" in fresh.password_hash


def _forge(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{b64(header or {'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


async def test_bad_access_tokens_are_unauthenticated(gql: Gql, tenant_factory: Any, user_factory: Any,
                                                      settings: Settings) -> None:
    tenant = await tenant_factory()
    user, good = await user_factory(tenant, Role.OWNER)
    assert payload(await gql(ME, token=good), "me")["role"] == "OWNER"
    now = int(time.time())
    claims = {"iss": settings.auth.issuer, "aud": settings.auth.audience, "sub": str(user.id), "tid": str(tenant.id),
              "role": "owner", "jti": "j", "iat": now, "exp": now + 600}
    key = signing_key(settings.auth.jwt_secret)
    header, body, signature = good.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    tampered_claims["role"] = "owner"
    tampered_claims["pa"] = True
    bad_tokens = {
        "expired": issue_access_token(user.id, tenant.id, Role.OWNER, settings=settings.auth, ttl_seconds=-120),
        "alg none": _forge(claims),
        "tampered": f"{header}.{_forge(tampered_claims).split('.')[1]}.{signature}",
        "wrong audience": jwt.encode({**claims, "aud": "elsewhere"}, key, algorithm="HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "mallory"}, key, algorithm="HS256"),
        "other algorithm": jwt.encode(claims, key, algorithm="HS512"),
        "raw secret key": jwt.encode(claims, settings.auth.jwt_secret + "-" * 20, algorithm="HS256"),
        "not a jwt": "abc.def",
    }
    for name, token in bad_tokens.items():
        body_json = await gql(ME, token=token)
        assert body_json["data"] is None, name
        assert top_code(body_json) == "UNAUTHENTICATED", name
    expired = await gql(ME, token=bad_tokens["expired"])
    assert "expired" in expired["errors"][0]["message"]
    missing = await gql(ME)
    assert top_code(missing) == "UNAUTHENTICATED"


async def test_create_tenant_returns_owner_session_for_it(gql: Gql) -> None:
    session = await register(gql)
    body = await gql("mutation($n: String!) { createTenant(name: $n) { __typename ... on CreateTenantPayload { "
                     "tenant { id name slug } session { accessToken role tenantId } } ... on Error { code field } } }",
                     {"n": "Second Studio"}, token=session["accessToken"])
    created = payload(body, "createTenant")
    assert created["tenant"]["name"] == "Second Studio" and created["tenant"]["slug"].startswith("second-studio-")
    assert created["session"]["role"] == "OWNER" and created["session"]["tenantId"] == created["tenant"]["id"]
    members = await gql("{ tenant { ... on Tenant { members { role } } } }", token=created["session"]["accessToken"])
    assert payload(members, "tenant")["members"] == [{"role": "OWNER"}]
    me = payload(await gql(ME, token=session["accessToken"]), "me")
    assert len(me["memberships"]) == 2


async def test_throttle_window_slides(redis_client: Any) -> None:
    """Failures older than the window stop counting (real Redis, a 1 s window)."""
    import asyncio

    from app.auth.throttle import LoginThrottle
    from app.errors import RateLimitedError

    throttle = LoginThrottle(redis_client, AuthSettings(login_max_attempts=2, login_window_seconds=1))
    email = new_email()
    await throttle.reserve(email, "10.0.0.9")
    await throttle.reserve(email, "10.0.0.9")
    with pytest.raises(RateLimitedError) as limited:
        await throttle.reserve(email, "10.0.0.9")
    assert limited.value.retry_after == 1
    await asyncio.sleep(1.2)
    slot = await throttle.reserve(email, "10.0.0.9")  # the window moved on
    await throttle.reserve(email, None)
    await throttle.succeeded(email, "10.0.0.9", slot)  # forgets the account's failures
    await throttle.reserve(email, None)
    await throttle.reserve(email, None)


async def test_principal_from_request_for_plain_http_routes(settings: Settings, tenant_factory: Any,
                                                            user_factory: Any) -> None:
    from starlette.requests import Request

    from app.auth.http import principal_from_request
    from app.errors import AuthError

    tenant = await tenant_factory()
    user, token = await user_factory(tenant, Role.EDITOR)

    def request(headers: list[tuple[bytes, bytes]]) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/files", "headers": headers, "query_string": b""})

    principal = await principal_from_request(request([(b"authorization", f"Bearer {token}".encode())]))
    assert (principal.user_id, principal.tenant_id, principal.role) == (user.id, tenant.id, Role.EDITOR)
    for headers in ([], [(b"authorization", b"Bearer nope")], [(b"authorization", f"Basic {token}".encode())]):
        with pytest.raises(AuthError):
            await principal_from_request(request(headers))


async def test_registrations_are_throttled_per_ip(gql: Gql, redis_client: Any, settings: Settings) -> None:
    from app.auth.throttle import REGISTER_FACTOR

    await redis_client.flushdb()
    for _ in range(settings.auth.login_max_attempts * REGISTER_FACTOR):
        body = await gql(REGISTER, {"email": "bad", "password": PASSWORD, "displayName": "A", "tenantName": "S"})
        assert payload(body, "register")["code"] == "VALIDATION_FAILED"
    limited = payload(await gql(REGISTER, {"email": new_email(), "password": PASSWORD, "displayName": "A",
                                           "tenantName": "S"}), "register")
    assert limited["__typename"] == "RateLimitedError" and limited["code"] == "RATE_LIMITED"


async def test_concurrent_refreshes_of_one_token_count_as_reuse(gql: Gql) -> None:
    """Row lock on the token: one refresh wins, the other sees a spent token and revokes the family."""
    import asyncio

    session = await register(gql)
    results = await asyncio.gather(*(gql(REFRESH, {"token": session["refreshToken"]}) for _ in range(2)))
    kinds = sorted(payload(body, "refreshToken")["__typename"] for body in results)
    assert kinds == ["AuthPayload", "TokenReusedError"]
    bodies = [payload(b, "refreshToken") for b in results]
    winner = next(b for b in bodies if b["__typename"] == "AuthPayload")
    after = payload(await gql(REFRESH, {"token": winner["refreshToken"]}), "refreshToken")
    assert after["code"] == "UNAUTHENTICATED"
