"""Per-request authorisation: the caller's CURRENT role, read from PostgreSQL through a short Redis cache.

An access token proves who the caller is and which tenant it acts in; it does not decide what the
caller may do. Every request (and every websocket subscribe) looks up the membership and the account
flags, so a removed, demoted or disabled member loses their powers at once, not when the token expires.

The cache holds ``role|platform-admin`` (or ``-`` for "no access") for ``CACHE_TTL_SECONDS``. Keys carry a
per-user generation number; ``invalidate`` bumps it after a change commits, so a lookup that read the old
row just before the change writes under the old generation and is never read again.

    principal = await current_principal(decode_access_token(token), redis)   # AuthError when gone
    await invalidate(redis, user_id)      # after a membership, role or account change commits
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from redis.exceptions import RedisError

from app.auth.principal import Principal
from app.db import system_tx
from app.errors import AuthError
from app.models.enums import Role

log = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 30
#: A generation outlives every cache entry written under it by far, so a reset to 0 is harmless.
_GENERATION_TTL_SECONDS = 86400
_PREFIX = "recap:authz"
_NO_ACCESS = "-"

# One round trip: read the user's generation, then the cache entry of that generation.
_LOOKUP_LUA = """
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. ':' .. gen .. ':' .. ARGV[2])}
"""

_SQL = ("SELECT u.is_platform_admin, m.role FROM users u "
        "LEFT JOIN memberships m ON m.user_id = u.id AND m.tenant_id = $2 "
        "WHERE u.id = $1 AND u.is_active")


def _generation_key(user_id: UUID) -> str:
    return f"{_PREFIX}:gen:{user_id}"


def _entry_prefix(user_id: UUID) -> str:
    return f"{_PREFIX}:{user_id}"


async def _from_database(user_id: UUID, tenant_id: UUID) -> str:
    async with system_tx() as conn:
        rows = await conn.execute_query_dict(_SQL, [str(user_id), str(tenant_id)])
    if not rows or rows[0]["role"] is None:
        return _NO_ACCESS
    return f"{rows[0]['role']}|{int(bool(rows[0]['is_platform_admin']))}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _cached(redis: Any, user_id: UUID, tenant_id: UUID) -> tuple[str | None, str | None]:
    """(generation, cached value) or (None, None) when Redis is unavailable."""
    try:
        gen, value = await redis.eval(_LOOKUP_LUA, 1, _generation_key(user_id), _entry_prefix(user_id),
                                      str(tenant_id))
    except (RedisError, OSError) as ex:
        log.warning("authorisation cache unavailable, reading PostgreSQL: %s", ex)
        return None, None
    return _text(gen), (_text(value) if value is not None else None)


async def _store(redis: Any, user_id: UUID, tenant_id: UUID, generation: str, value: str) -> None:
    try:
        await redis.set(f"{_entry_prefix(user_id)}:{generation}:{tenant_id}", value, ex=CACHE_TTL_SECONDS)
    except (RedisError, OSError) as ex:
        log.warning("authorisation cache unavailable: %s", ex)


async def access_entry(redis: Any, user_id: UUID, tenant_id: UUID) -> str:
    """The current ``role|pa`` of ``user_id`` in ``tenant_id`` (``-``: not a member or disabled)."""
    generation, value = await _cached(redis, user_id, tenant_id) if redis is not None else (None, None)
    if value is not None:
        return value
    value = await _from_database(user_id, tenant_id)
    if generation is not None:
        await _store(redis, user_id, tenant_id, generation, value)
    return value


async def current_principal(claimed: Principal, redis: Any) -> Principal:
    """``claimed`` (from a verified token) with the role and platform-admin flag as they are NOW.

    Raises:
        AuthError: the account is disabled or gone, or no longer a member of the token's tenant.
    """
    entry = await access_entry(redis, claimed.user_id, claimed.tenant_id)
    if entry == _NO_ACCESS:
        raise AuthError("your access to this tenant was revoked; sign in again")
    role, _, admin = entry.partition("|")
    try:
        current = Role(role)
    except ValueError as ex:  # an entry written by another version: read the database
        raise AuthError("your access could not be checked; sign in again") from ex
    return Principal(user_id=claimed.user_id, tenant_id=claimed.tenant_id, role=current,
                     is_platform_admin=admin == "1")


async def invalidate(redis: Any, user_id: UUID) -> None:
    """Forget every cached access entry of ``user_id`` (call after the change committed)."""
    if redis is None:
        return
    try:
        pipe = redis.pipeline(transaction=True)
        pipe.incr(_generation_key(user_id))
        pipe.expire(_generation_key(user_id), _GENERATION_TTL_SECONDS)
        await pipe.execute()
    except (RedisError, OSError) as ex:  # entries expire within CACHE_TTL_SECONDS anyway
        log.warning("could not invalidate the authorisation cache of %s: %s", user_id, ex)


async def invalidate_user(user_id: UUID) -> None:
    """:func:`invalidate` on the process's shared Redis client (services and the CLI)."""
    from app.redis import get_redis

    try:
        redis = get_redis()
    except RuntimeError:  # no Redis configured: nothing is cached either
        return
    await invalidate(redis, user_id)
