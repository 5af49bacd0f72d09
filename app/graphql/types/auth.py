"""Accounts and sessions: User, TenantMembership, Me, AuthPayload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import models
from app.graphql.types.enums import Role
from app.services.auth import AuthResult


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    display_name: str
    is_platform_admin: bool
    created_at: datetime

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(id=strawberry.ID(str(user.id)), email=user.email, display_name=user.display_name,
                   is_platform_admin=user.is_platform_admin, created_at=user.created_at)


@strawberry.type(description="A tenant the user belongs to, with the user's role there.")
class TenantMembership:
    tenant_id: strawberry.ID
    tenant_name: str
    tenant_slug: str
    role: Role
    joined_at: datetime

    @classmethod
    def from_model(cls, membership: models.Membership) -> TenantMembership:
        tenant = membership.tenant
        return cls(tenant_id=strawberry.ID(str(tenant.id)), tenant_name=tenant.name, tenant_slug=tenant.slug,
                   role=membership.role, joined_at=membership.created_at)


@strawberry.type(description="The caller: account, current tenant and role (from the token), all memberships.")
class Me:
    user: User
    tenant_id: strawberry.ID
    role: Role
    memberships: list[TenantMembership]


@strawberry.type(description="A session: a short-lived access token and a single-use rotating refresh token.")
class AuthPayload:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    tenant_id: strawberry.ID
    role: Role
    user: User

    @classmethod
    def from_result(cls, result: AuthResult) -> AuthPayload:
        return cls(access_token=result.access_token, refresh_token=result.refresh_token, token_type="Bearer",  # noqa: S106
                   expires_in=result.expires_in, tenant_id=strawberry.ID(str(result.tenant_id)), role=result.role,
                   user=User.from_model(result.user))


@strawberry.type
class LogoutPayload:
    ok: bool
