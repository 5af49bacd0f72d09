"""Accounts and sessions: register, login (throttled), rotating refresh tokens with reuse detection, logout.

Refresh tokens look like ``rt1.<tenant hex>.<secret>``; only their sha256 is stored. Every refresh spends
the token and issues the next one of the same family; presenting a spent token again revokes the whole
family (someone copied it) and raises TokenReusedError.

    result = await login(settings, redis, "ann@example.com", "correct horse 9", ip="10.0.0.1")
    result = await refresh(settings, result.refresh_token)
    await logout(settings, result.refresh_token)
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError

from app.auth import access
from app.auth.passwords import check_password_policy, dummy_hash, hash_password, password_hasher, verify_password
from app.auth.principal import Principal
from app.auth.throttle import LoginThrottle
from app.auth.tokens import issue_access_token
from app.config import Settings
from app.db import system_tx
from app.errors import AuthError, ConflictError, NotFoundError, TokenReusedError
from app.models import Membership, RefreshToken, Role, Tenant, User
from app.services import audit, outbox
from app.services.text import clean_email, clean_name, could_be_email, normalize_email, slugify

_TOKEN_PREFIX = "rt1"  # noqa: S105 - a format tag, not a secret


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: User
    tenant_id: UUID
    role: Role
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(tenant_id: UUID) -> str:
    return f"{_TOKEN_PREFIX}.{tenant_id.hex}.{secrets.token_urlsafe(32)}"


def _token_tenant(token: str) -> UUID | None:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _TOKEN_PREFIX:
        return None
    try:
        return UUID(hex=parts[1])
    except ValueError:
        return None


async def _issue(conn: Any, settings: Settings, user: User, tenant_id: UUID, role: Role,
                 family: UUID | None = None) -> AuthResult:
    token = _new_refresh_token(tenant_id)
    expires = datetime.now(UTC) + timedelta(seconds=settings.auth.refresh_ttl_seconds)
    await RefreshToken.create(user_id=user.id, session_tenant_id=tenant_id, family=family or uuid.uuid4(),
                              token_hash=_hash(token), expires_at=expires, using_db=conn)
    access = issue_access_token(user.id, tenant_id, role, is_platform_admin=user.is_platform_admin,
                                settings=settings.auth)
    return AuthResult(user, tenant_id, role, access, token, settings.auth.access_ttl_seconds)


async def register(settings: Settings, email: str, password: str, display_name: str, tenant_name: str,
                   *, ip: str | None = None, redis: Any = None) -> AuthResult:
    """Create a user, a tenant and the owner membership; log the user in.

    Raises:
        RateLimitedError: too many registrations from ``ip`` in the window (when ``redis`` is given).
        ValidationError: bad email, weak password, bad names (field set).
        ConflictError: the email is taken (field ``email``); the message says nothing more, and the
            address's holder gets an outbox notice. (Only a verified-email flow would hide even that the
            registration failed; see docs/security.md.)
    """
    if redis is not None:
        await LoginThrottle(redis, settings.auth).register_attempt(ip)
    email = clean_email(email)
    check_password_policy(password, email)
    display = clean_name(display_name, field="displayName")
    tenant_label = clean_name(tenant_name, field="tenantName")
    password_hash = await hash_password(password_hasher(settings.auth), password)
    try:
        async with system_tx() as conn:
            if await User.filter(email=email).using_db(conn).exists():
                raise ConflictError(_TAKEN, "email")
            user = await User.create(email=email, password_hash=password_hash, display_name=display, using_db=conn)
            tenant = await Tenant.create(name=tenant_label, slug=slugify(tenant_label), using_db=conn)
            await Membership.create(tenant_id=tenant.id, user_id=user.id, role=Role.OWNER, using_db=conn)
            await audit.record(conn, tenant_id=tenant.id, actor_id=user.id, action="user.registered", ip=ip)
            return await _issue(conn, settings, user, tenant.id, Role.OWNER)
    except IntegrityError as ex:  # a concurrent registration won the race
        await _notify_taken(email)
        raise ConflictError(_TAKEN, "email") from ex
    except ConflictError:
        await _notify_taken(email)
        raise


#: One answer for "taken", whoever asks; the holder of the address hears about the attempt (outbox).
_TAKEN = "this email cannot be registered; if it is yours, sign in (or create a new tenant once signed in)"


async def _notify_taken(email: str) -> None:
    async with system_tx() as conn:
        await outbox.enqueue(conn, recipient=email, kind="register.attempt",
                             subject="Someone tried to register with your address on Recap",
                             body="A registration with this email address was refused because it already has an "
                                  "account. If it was you, sign in instead. If not, nothing changed.")


async def _pick_membership(conn: Any, user: User, tenant_id: UUID | None) -> Membership | None:
    query = Membership.filter(user_id=user.id).using_db(conn)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    return await query.order_by("created_at").first()


async def login(settings: Settings, redis: Any, email: str, password: str, tenant_id: UUID | None = None,
                *, ip: str | None = None) -> AuthResult:
    """Check the password and open a session in ``tenant_id`` (default: the user's oldest membership).

    Raises:
        RateLimitedError: too many failures for this account or IP in the window (checked and counted
            in one atomic step before the password hash, see ``app.auth.throttle``).
        AuthError: wrong email/password, inactive user, or not a member of ``tenant_id`` (one message for all).
    """
    throttle = LoginThrottle(redis, settings.auth)
    key = normalize_email(email)
    slot = await throttle.reserve(key, ip)  # counted before the hash: parallel guesses cannot all pass
    hasher = password_hasher(settings.auth)
    async with system_tx() as conn:
        user = await User.filter(email=key).using_db(conn).first() if could_be_email(key) else None
        stored = user.password_hash if user else dummy_hash(settings.auth.argon2_time_cost,
                                                           settings.auth.argon2_memory_kib)
        ok, new_hash = await verify_password(hasher, stored, password)
        membership = await _pick_membership(conn, user, tenant_id) if user and ok and user.is_active else None
        if user is None or membership is None:
            if user is not None:
                await audit.record(conn, tenant_id=None, actor_id=user.id, action="login.failed", ip=ip)
            failed = True
        else:
            failed = False
            if new_hash:
                user.password_hash = new_hash
                await user.save(using_db=conn, update_fields=["password_hash"])
            await audit.record(conn, tenant_id=membership.tenant_id,  # type: ignore[attr-defined]
                               actor_id=user.id, action="login", ip=ip)
            result = await _issue(conn, settings, user, membership.tenant_id, membership.role)  # type: ignore[attr-defined]
    if failed:
        raise AuthError("wrong email or password")
    await throttle.succeeded(key, ip, slot)
    return result


async def refresh(settings: Settings, token: str, *, ip: str | None = None) -> AuthResult:
    """Spend ``token`` and return a new access token and the next refresh token of its family.

    Raises:
        TokenReusedError: ``token`` was already spent; its whole family is now revoked.
        AuthError: unknown, revoked or expired token, or the membership is gone.
    """
    tenant_id = _token_tenant(token)
    if tenant_id is None:
        raise AuthError("invalid refresh token", "token")
    now = datetime.now(UTC)
    outcome: AuthResult | AuthError
    async with system_tx() as conn:
        row = await RefreshToken.filter(token_hash=_hash(token)).using_db(conn).select_for_update().first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            outcome = AuthError("invalid or expired refresh token", "token")
        elif row.used_at is not None:
            await _revoke_family(conn, row.family, now)
            await audit.record(conn, tenant_id=tenant_id, actor_id=row.user_id, action="refresh.reused",  # type: ignore[attr-defined]
                               data={"family": str(row.family)}, ip=ip)
            outcome = TokenReusedError(field="token")
        else:
            outcome = await _rotate(conn, settings, row, tenant_id, now)
    if isinstance(outcome, AuthError):
        raise outcome
    return outcome


async def _rotate(conn: Any, settings: Settings, row: RefreshToken, tenant_id: UUID,
                  now: datetime) -> AuthResult | AuthError:
    row.used_at = now
    await row.save(using_db=conn, update_fields=["used_at"])
    user = await User.filter(id=row.user_id, is_active=True).using_db(conn).first()  # type: ignore[attr-defined]
    membership = await _pick_membership(conn, user, tenant_id) if user else None
    if user is None or membership is None:
        await _revoke_family(conn, row.family, now)
        return AuthError("the account or its membership is gone", "token")
    return await _issue(conn, settings, user, tenant_id, membership.role, family=row.family)


async def _revoke_family(conn: Any, family: UUID, now: datetime) -> None:
    await RefreshToken.filter(family=family, revoked_at=None).using_db(conn).update(revoked_at=now)


async def logout(settings: Settings, token: str, *, ip: str | None = None) -> None:
    """Revoke the session (refresh-token family) of ``token``; unknown tokens are ignored."""
    del settings
    now = datetime.now(UTC)
    async with system_tx() as conn:
        row = await RefreshToken.filter(token_hash=_hash(token)).using_db(conn).first()
        if row is None:
            return
        await _revoke_family(conn, row.family, now)
        await audit.record(conn, tenant_id=_token_tenant(token), actor_id=row.user_id,  # type: ignore[attr-defined]
                           action="logout", ip=ip)


async def get_me(principal: Principal) -> tuple[User, list[Membership]]:
    """The caller's account and all its memberships (with tenants), for ``me``."""
    async with system_tx() as conn:
        user = await User.filter(id=principal.user_id).using_db(conn).first()
        if user is None or not user.is_active:
            raise AuthError("account not found or disabled")
        memberships = await (Membership.filter(user_id=user.id).using_db(conn)
                             .select_related("tenant").order_by("created_at"))
    return user, list(memberships)


async def switch_tenant(settings: Settings, principal: Principal, tenant_id: UUID) -> AuthResult:
    """A new session for the caller in another tenant it belongs to (NotFoundError otherwise)."""
    async with system_tx() as conn:
        user = await User.filter(id=principal.user_id, is_active=True).using_db(conn).first()
        membership = await _pick_membership(conn, user, tenant_id) if user else None
        if user is None or membership is None:
            raise NotFoundError("tenant not found", "tenantId")
        await audit.record(conn, tenant_id=tenant_id, actor_id=user.id, action="tenant.switched")
        return await _issue(conn, settings, user, tenant_id, membership.role)


async def set_platform_admin(email: str, value: bool) -> UUID:
    """Grant (or take back) the platform-admin flag of the account ``email``; effective on its next request.

    Raises:
        NotFoundError(field="email"): no such account.
    """
    async with system_tx() as conn:
        user = await User.filter(email=normalize_email(email)).using_db(conn).first()
        if user is None:
            raise NotFoundError("no account with this email", "email")
        user.is_platform_admin = value
        await user.save(using_db=conn, update_fields=["is_platform_admin"])
        await audit.record(conn, tenant_id=None, actor_id=None, action="user.platform_admin_changed",
                           target_type="user", target_id=str(user.id), data={"value": value})
    await access.invalidate_user(user.id)
    return user.id
