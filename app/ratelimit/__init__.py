"""Rate limits and abuse control: request rates per tenant and per IP, GraphQL cost, websocket caps.

    Limiter            moving-window request counts and a sliding-window cost budget in Redis (``limits``)
    RateLimitMiddleware  ASGI: /graphql (HTTP) and /uploads per IP and per tenant -> 429 + Retry-After;
                       websockets on /graphql capped per IP
    CostLimit          GraphQL extension: static cost per operation (``max_cost``) and per tenant per minute
    subscription_slot  ``async with subscription_slot(principal, settings): ...`` caps live subscriptions per user

Every refusal is ``RateLimitedError`` (code ``RATE_LIMITED``, ``retry_after`` seconds) or, for an
operation too expensive to ever run, the GraphQL error code ``COST_LIMIT_EXCEEDED``.
"""

from app.ratelimit.cost import COST_LIMIT_EXCEEDED, CostLimit, operation_cost
from app.ratelimit.limiter import Limiter
from app.ratelimit.live import subscription_slot
from app.ratelimit.middleware import RateLimitMiddleware

__all__ = ["COST_LIMIT_EXCEEDED", "CostLimit", "Limiter", "RateLimitMiddleware", "operation_cost",
           "subscription_slot"]
