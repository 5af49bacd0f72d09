"""Invitations: joining a tenant takes the invitee's consent.

An admin invites an email address with a role; the invitation's secret token goes to that address
through the outbox (``app.services.outbox``), never back to the inviter. The invitee, signed in with
that same address, accepts with the token and only then becomes a member. Inviting answers the same
whether or not the address has an account (or is already a member), so it reveals nothing about accounts.

    invitation = await create_invitation(principal, "bob@example.com", Role.EDITOR)   # admins+
    accepted = await accept_invitation(bob_principal, token)      # bob's membership exists now
    pending = await list_invitations(principal); await revoke_invitation(principal, invitation.id)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.auth import access
from app.auth.principal import Principal
from app.db import system_tx, tenant_tx
from app.errors import ConflictError, NotFoundError
from app.models import Invitation, Membership, Role, Tenant, User
from app.services import audit, outbox
from app.services.text import clean_email

INVITATION_TTL = timedelta(days=7)
_TOKEN_PREFIX = "inv1"  # noqa: S105 - a format tag, not a secret


@dataclass(frozen=True, slots=True)
class InvitationView:
    id: UUID
    tenant_id: UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Accepted:
    tenant_id: UUID
    tenant_name: str
    role: Role


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(row: Invitation) -> InvitationView:
    return InvitationView(row.id, row.tenant_id, row.email, row.role, row.expires_at,  # type: ignore[attr-defined]
                          row.created_at)


def _message(tenant_name: str, role: Role, token: str) -> str:
    return (f"You are invited to join {tenant_name} on Recap as {role.value}.\n\n"
            f"Sign in with this email address and accept with the token:\n\n    {token}\n\n"
            "(GraphQL: mutation { acceptInvitation(token: \"...\") { ... } })\n"
            "Ignore this message if you do not want to join; the invitation expires in 7 days.")


async def create_invitation(principal: Principal, email: str, role: Role) -> InvitationView:
    """Invite ``email`` as ``role`` (admins+; owners only may invite owners); a pending one is replaced.

    Raises:
        ValidationError(field="email"): not an email address.
        PermissionDeniedError: role too low.
    """
    principal.require(Role.ADMIN)
    if role is Role.OWNER:
        principal.require(Role.OWNER)
    address = clean_email(email)
    token = f"{_TOKEN_PREFIX}.{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    async with tenant_tx(principal.tenant_id) as conn:
        tenant = await Tenant.get(id=principal.tenant_id, using_db=conn)
        await (Invitation.filter(tenant_id=principal.tenant_id, email=address, accepted_at=None, revoked_at=None)
               .using_db(conn).update(revoked_at=now))
        row = await Invitation.create(tenant_id=principal.tenant_id, email=address, role=role, token_hash=_hash(token),
                                      invited_by_id=principal.user_id, expires_at=now + INVITATION_TTL, using_db=conn)
        await outbox.enqueue(conn, recipient=address, kind="invitation",
                             subject=f"Invitation to {tenant.name} on Recap", body=_message(tenant.name, role, token))
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id, action="member.invited",
                           target_type="invitation", target_id=str(row.id), data={"role": role.value})
    return _view(row)


async def list_invitations(principal: Principal) -> list[InvitationView]:
    """Pending (not accepted, revoked or expired) invitations of the caller's tenant, newest first (admins+)."""
    principal.require(Role.ADMIN)
    async with tenant_tx(principal.tenant_id) as conn:
        rows = await (Invitation.filter(tenant_id=principal.tenant_id, accepted_at=None, revoked_at=None,
                                        expires_at__gt=datetime.now(UTC)).using_db(conn).order_by("-created_at"))
    return [_view(row) for row in rows]


async def revoke_invitation(principal: Principal, invitation_id: UUID) -> UUID:
    """Withdraw a pending invitation (admins+); another tenant's or a spent one is NOT_FOUND."""
    principal.require(Role.ADMIN)
    async with tenant_tx(principal.tenant_id) as conn:
        updated = await (Invitation.filter(id=invitation_id, tenant_id=principal.tenant_id, accepted_at=None,
                                           revoked_at=None).using_db(conn).update(revoked_at=datetime.now(UTC)))
        if not updated:
            raise NotFoundError("invitation not found", "invitationId")
        await audit.record(conn, tenant_id=principal.tenant_id, actor_id=principal.user_id,
                           action="invitation.revoked", target_type="invitation", target_id=str(invitation_id))
    return invitation_id


async def _pending(conn: Any, token: str, now: datetime) -> Invitation:
    row = await Invitation.filter(token_hash=_hash(token)).using_db(conn).select_for_update().first()
    if row is None or row.accepted_at is not None or row.revoked_at is not None or row.expires_at <= now:
        raise NotFoundError("invitation not found, used, withdrawn or expired", "token")
    return row


async def accept_invitation(principal: Principal, token: str) -> Accepted:
    """Join the inviting tenant: the caller's account must have the invited email address.

    Raises:
        NotFoundError(field="token"): unknown, used, withdrawn or expired token, or addressed to someone else.
        ConflictError: the caller is already a member of that tenant.
    """
    now = datetime.now(UTC)
    async with system_tx() as conn:
        row = await _pending(conn, token.strip(), now)
        user = await User.filter(id=principal.user_id, is_active=True).using_db(conn).first()
        if user is None or user.email != row.email:  # the same answer as a wrong token: reveals nothing
            raise NotFoundError("invitation not found, used, withdrawn or expired", "token")
        tenant_id: UUID = row.tenant_id  # type: ignore[attr-defined]
        if await Membership.filter(tenant_id=tenant_id, user_id=user.id).using_db(conn).exists():
            raise ConflictError("you are already a member of this tenant", "token")
        await Membership.create(tenant_id=tenant_id, user_id=user.id, role=row.role, using_db=conn)
        row.accepted_at, row.accepted_by_id = now, user.id  # type: ignore[attr-defined]
        await row.save(using_db=conn, update_fields=["accepted_at", "accepted_by_id"])
        tenant = await Tenant.get(id=tenant_id, using_db=conn)
        await audit.record(conn, tenant_id=tenant_id, actor_id=user.id, action="member.added",
                           target_type="user", target_id=str(user.id),
                           data={"role": row.role.value, "invitation": str(row.id)})
    await access.invalidate_user(user.id)
    return Accepted(tenant_id, tenant.name, row.role)
