"""Query: ``me``."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import RecapContext
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.auth import Me, TenantMembership, User
from app.services import auth


@strawberry.type
class AuthQuery:
    @strawberry.field(permission_classes=AUTHENTICATED, description="The caller, its tenant and role, memberships.")
    async def me(self, info: Info[RecapContext, Any]) -> Me:
        principal = info.context.principal()
        user, memberships = await auth.get_me(principal)
        return Me(user=User.from_model(user), tenant_id=strawberry.ID(str(principal.tenant_id)), role=principal.role,
                  memberships=[TenantMembership.from_model(m) for m in memberships])
