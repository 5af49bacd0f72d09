"""Is this exception a backing service (PostgreSQL, Redis) that is down or restarting, not a bug?

Callers answer such errors honestly: GraphQL with a typed ``UNAVAILABLE`` error, ``/readyz`` with 503,
the rate limiter by letting the request through to an endpoint that answers the same.

    if is_unavailable(ex): ...
"""

from __future__ import annotations

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise.exceptions import DBConnectionError

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    DBConnectionError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
    RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, FileNotFoundError)


def is_unavailable(ex: BaseException | None) -> bool:
    """True for connection-level failures of PostgreSQL or Redis (a Unix socket that vanished included)."""
    return isinstance(ex, UNAVAILABLE_ERRORS)
