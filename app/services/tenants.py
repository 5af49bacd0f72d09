"""Tenants and memberships: create a tenant, list/re-role/remove members. RBAC per action.

Roles: viewers read, editors create and run, admins manage members (and read the quota), owners everything.
Only owners grant, change or remove the owner role; the last owner can be neither demoted nor removed.
Nobody is added without consent: ``app.services.invitations`` invites, the invitee accepts.
A role change or a removal takes effect on the member's next request (``app.auth.access``); a removal also
revokes the member's refresh tokens for this tenant.

    tenant = await create_tenant(principal, "Studio B")
    members = await list_members(principal)            # admins+
    await change_role(principal, user_id, Role.EDITOR)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.expressions import Q

from app.auth import access
from app.auth.principal import Principal
from app.db import tenant_tx
from app.errors import ConflictError, NotFoundError, PermissionDeniedError
from app.models import Membership, RefreshToken, Role, Tenant, User
from app.services import audit
from app.services.text import clean_name, slugify


@dataclass(frozen=True, slots=True)
class Member:
    user_id: UUID
    email: str
    display_name: str
    role: Role
    joined_at: Any


async def create_tenant(principal: Principal, name: str) -> Tenant:
    """A new tenant owned by the caller (any authenticated user may create one)."""
    label = clean_name(name, field="name")
    tenant_id = uuid.uuid4()
    async with tenant_tx(tenant_id) as conn:
        tenant = await Tenant.create(id=tenant_id, name=label, slug=slugify(label), using_db=conn)
        await Membership.create(tenant_id=tenant_id, user_id=principal.user_id, role=Role.OWNER, using_db=conn)
        await audit.record(conn, tenant_id=tenant_id, actor_id=principal.user_id, action="tenant.created")
    return tenant


async def get_tenant(principal: Principal) -> Tenant:
    """The caller's tenant (admins+)."""
    principal.require(Role.ADMIN)
    async with tenant_tx(principal.tenant_id) as conn:
        tenant = await Tenant.filter(id=principal.tenant_id).using_db(conn).first()
    if tenant is None:
        raise NotFoundError("tenant not found")
    return tenant


async def list_members(principal: Principal) -> list[Member]:
    """Members of the caller's tenant, oldest first (admins+)."""
    principal.require(Role.ADMIN)
    async with tenant_tx(principal.tenant_id) as conn:
        rows = await (Membership.filter(tenant_id=principal.tenant_id).using_db(conn)
                      .select_related("user").order_by("created_at", "id"))
    return [Member(m.user.id, m.user.email, m.user.display_name, m.role, m.created_at) for m in rows]


def _member(membership: Membership, user: User) -> Member:
    return Member(user.id, user.email, user.display_name, membership.role, membership.created_at)


async def _membership(conn: Any, principal: Principal, user_id: UUID) -> Membership:
    membership = await (Membership.filter(tenant_id=principal.tenant_id, user_id=user_id).using_db(conn)
                        .select_for_update().first())
    if membership is None:
        raise NotFoundError("member not found", "userId")
    return membership


async def _ensure_other_owner(conn: Any, tenant_id: UUID, user_id: UUID) -> None:
    # Lock every owner row, so two owners demoting each other at once cannot both succeed.
    owners = await Membership.filter(tenant_id=tenant_id, role=Role.OWNER).using_db(conn).select_for_update()
    if not any(m.user_id != user_id for m in owners):  # type: ignore[attr-defined]
        raise ConflictError("a tenant needs at least one owner", "userId")


async def change_role(principal: Principal, user_id: UUID, role: Role) -> Member:
    """Set a member's role (admins+; owner grants/demotions by owners only; never demote the last owner)."""
    principal.require(Role.ADMIN)
    async with tenant_tx(principal.tenant_id) as conn:
        membership = await _membership(conn, principal, user_id)
        if Role.OWNER in (role, membership.role) and not principal.has_role(Role.OWNER):
            raise PermissionDeniedError("only owners can grant or change the owner role", "role")
        previous = membership.role
        if previous is Role.OWNER and role is not Role.OWNER:
            await _ensure_other_owner(conn, principal.tenant_id, user_id)
        membership.role = role
        await membership.save(using_db=conn, update_fields=["role"])
        user = await User.get(id=user_id, using_db=conn)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id,
                           action="member.role_changed", target_type="user", target_id=str(user_id),
                           data={"from": previous.value, "to": role.value})
    await access.invalidate_user(user_id)
    return _member(membership, user)


async def remove_member(principal: Principal, user_id: UUID) -> UUID:
    """Remove a member (admins+, or anyone leaving; owners removed by owners only; never the last owner)."""
    if user_id != principal.user_id:
        principal.require(Role.ADMIN)
    async with tenant_tx(principal.tenant_id) as conn:
        membership = await _membership(conn, principal, user_id)
        if membership.role is Role.OWNER:
            if user_id != principal.user_id and not principal.has_role(Role.OWNER):
                raise PermissionDeniedError("only owners can remove an owner", "userId")
            await _ensure_other_owner(conn, principal.tenant_id, user_id)
        await membership.delete(using_db=conn)
        await _revoke_sessions(conn, user_id, principal.tenant_id)
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id, action="member.removed",
                           target_type="user", target_id=str(user_id), data={"role": membership.role.value})
    await access.invalidate_user(user_id)
    return user_id


async def _revoke_sessions(conn: Any, user_id: UUID, tenant_id: UUID) -> None:
    # Sessions minted before refresh tokens recorded their tenant (NULL) go too: the tenant is unknown.
    scope = Q(session_tenant_id=tenant_id) | Q(session_tenant_id=None)
    await (RefreshToken.filter(scope, user_id=user_id, revoked_at=None).using_db(conn)
           .update(revoked_at=datetime.now(UTC)))
