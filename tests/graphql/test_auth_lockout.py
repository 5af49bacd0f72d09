"""The login lockout holds against guesses sent in parallel (check-and-count is one atomic step)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from app.config import Settings
from app.db import system_tx
from app.models import AuditEvent, Role
from tests.conftest import TEST_PASSWORD
from tests.graphql.conftest import LOGIN, Gql, payload


async def test_thirty_parallel_wrong_logins_check_at_most_the_limit(gql: Gql, tenant_factory: Any,
                                                                     user_factory: Any, settings: Settings,
                                                                     redis_client: Any) -> None:
    user, _ = await user_factory(await tenant_factory(), Role.EDITOR)
    guesses = [gql(LOGIN, {"email": user.email, "password": f"Guess-{n:02d}-horse"}) for n in range(30)]
    results = [payload(body, "login") for body in await asyncio.gather(*guesses)]
    codes = Counter(r["code"] for r in results)
    limit = settings.auth.login_max_attempts
    assert codes == {"UNAUTHENTICATED": limit, "RATE_LIMITED": 30 - limit}, codes
    assert all(r["retryAfter"] > 0 for r in results if r["code"] == "RATE_LIMITED")
    async with system_tx():  # one audit row per password actually checked
        checked = await AuditEvent.filter(actor_id=user.id, action="login.failed").count()
    assert checked == limit
    # The right password is refused too while the account is locked: the lock is not a guessing oracle.
    locked = payload(await gql(LOGIN, {"email": user.email, "password": TEST_PASSWORD}), "login")
    assert locked["code"] == "RATE_LIMITED"


async def test_a_successful_login_gives_its_ip_slot_back(gql: Gql, tenant_factory: Any, user_factory: Any,
                                                          settings: Settings, redis_client: Any) -> None:
    from app.auth.throttle import IP_FACTOR

    user, _ = await user_factory(await tenant_factory(), Role.EDITOR)
    for _ in range(settings.auth.login_max_attempts * IP_FACTOR + 5):  # more logins than the IP's failure budget
        ok = payload(await gql(LOGIN, {"email": user.email, "password": TEST_PASSWORD}), "login")
        assert ok["__typename"] == "AuthPayload", ok
