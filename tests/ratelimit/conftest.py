"""Fixtures for limit tests: an app built with THIS test's limits (the suite's settings turn rate limits
off, see tests/conftest.py), in-process clients with a chosen client IP, and a loopback uvicorn server.

    app = limited_app(ip_api_per_minute=2)
    async with asgi_client(app, ip="10.0.0.7") as http: ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from app.config import RateLimitSettings, RateTier, Settings
from tests.graphql.conftest import make_org as graphql_make_org


def limits(**overrides: Any) -> RateLimitSettings:
    """Strict-by-default test limits: everything unlimited except what ``overrides`` names.

    ``tier=RateTier(...)`` sets the default plan's tier.
    """
    tier = overrides.pop("tier", RateTier(api_per_minute=0, uploads_per_minute=0, cost_per_minute=0))
    base: dict[str, Any] = {"enabled": True, "default_plan": "test", "plans": {"test": tier},
                            "ip_api_per_minute": 0, "ip_uploads_per_minute": 0}
    return RateLimitSettings(**{**base, **overrides})


@pytest.fixture
def limited_settings(settings: Settings) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return settings.model_copy(update={"ratelimit": limits(**overrides)})
    return make


@pytest.fixture
def limited_app(limited_settings: Callable[..., Settings], orm: None, redis_client: aioredis.Redis
                ) -> Callable[..., Any]:
    """``limited_app(**limits)``: ``create_app`` with those limits (no lifespan needed in-process).

    Depends on ``redis_client`` so the counters are flushed after the test.
    """
    from app.main import create_app

    def make(**overrides: Any) -> Any:
        return create_app(limited_settings(**overrides))
    return make


@contextlib.asynccontextmanager
async def asgi_client(app: Any, *, ip: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as http:
        yield http


make_org = graphql_make_org  # the two-role-world fixture of the GraphQL tests (a tenant, one user per role)
