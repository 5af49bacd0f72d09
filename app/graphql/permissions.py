"""Field permissions. Every protected field declares ``permission_classes=[IsAuthenticated]``; role checks
(RBAC) happen in the service functions, which return typed PermissionDeniedError members. The role they
check is the caller's current one (read per request by ``RecapContext.authenticate``), never the token's.

An unauthenticated call to a protected field gets a top-level GraphQL error (never masked) with
``extensions: {"code": "UNAUTHENTICATED"}`` and the field resolves to null.

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def quota(self, info: Info) -> Quota: principal = info.context.principal() ...
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from app.graphql.context import RecapContext


class IsAuthenticated(BasePermission):
    message = "authentication required"

    async def has_permission(self, source: Any, info: Info[RecapContext, Any], **kwargs: Any) -> bool:
        # Raises AuthError with the precise reason (missing, expired, invalid, membership revoked).
        await info.context.authenticate()
        return True


AUTHENTICATED: list[type[BasePermission]] = [IsAuthenticated]
