"""Tenants and their members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app import models
from app.errors import PermissionDeniedError
from app.graphql.context import RecapContext
from app.graphql.types.enums import Role
from app.services import invitations, tenants
from app.services.invitations import Accepted, InvitationView
from app.services.tenants import Member as MemberRow


@strawberry.type
class Member:
    user_id: strawberry.ID
    email: str
    display_name: str
    role: Role
    joined_at: datetime

    @classmethod
    def from_row(cls, row: MemberRow) -> Member:
        return cls(user_id=strawberry.ID(str(row.user_id)), email=row.email, display_name=row.display_name,
                   role=row.role, joined_at=row.joined_at)


@strawberry.type
class Tenant:
    id: strawberry.ID
    name: str
    slug: str
    created_at: datetime

    @strawberry.field(description="Members, oldest first (admins+; only for the tenant your token is scoped to).")
    async def members(self, info: Info[RecapContext, Any]) -> list[Member]:
        principal = info.context.principal()
        if str(principal.tenant_id) != str(self.id):
            raise PermissionDeniedError("switch to this tenant (switchTenant) to list its members")
        return [Member.from_row(row) for row in await tenants.list_members(principal)]

    @strawberry.field(description="Pending invitations, newest first (admins+; the tenant your token is scoped to).")
    async def invitations(self, info: Info[RecapContext, Any]) -> list[Invitation]:
        principal = info.context.principal()
        if str(principal.tenant_id) != str(self.id):
            raise PermissionDeniedError("switch to this tenant (switchTenant) to list its invitations")
        return [Invitation.from_view(row) for row in await invitations.list_invitations(principal)]

    @classmethod
    def from_model(cls, tenant: models.Tenant) -> Tenant:
        return cls(id=strawberry.ID(str(tenant.id)), name=tenant.name, slug=tenant.slug, created_at=tenant.created_at)


@strawberry.type(description="An offer to join a tenant; the token went to the email address, never to the inviter.")
class Invitation:
    id: strawberry.ID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime

    @classmethod
    def from_view(cls, row: InvitationView) -> Invitation:
        return cls(id=strawberry.ID(str(row.id)), email=row.email, role=row.role, expires_at=row.expires_at,
                   created_at=row.created_at)


@strawberry.type
class InvitationPayload:
    invitation: Invitation


@strawberry.type(description="You joined a tenant; `switchTenant(tenantId)` opens a session there.")
class InvitationAccepted:
    tenant_id: strawberry.ID
    tenant_name: str
    role: Role

    @classmethod
    def from_row(cls, row: Accepted) -> InvitationAccepted:
        return cls(tenant_id=strawberry.ID(str(row.tenant_id)), tenant_name=row.tenant_name, role=row.role)


@strawberry.type
class RevokeInvitationPayload:
    revoked_invitation_id: strawberry.ID


@strawberry.type
class MemberPayload:
    member: Member


@strawberry.type
class RemoveMemberPayload:
    removed_user_id: strawberry.ID
