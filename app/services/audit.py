"""Audit trail: security- and data-relevant actions (logins, logouts, role changes, token reuse, ...).

Rows are append-only for the app role (a trigger refuses UPDATE and DELETE, migration 0006_moder_audit);
``data`` must never hold secrets (tokens, passwords, signed links).

    await record(conn, tenant_id=t, actor_id=u, action="member.role_changed", target_type="user",
                 target_id=str(other), data={"from": "viewer", "to": "editor"})
    page = await list_events(principal, first=20, after=None, where=AuditFilter(action="render."))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from app.audit_context import current_requester
from app.auth.principal import Principal
from app.db import system_tx, tenant_tx
from app.errors import NotFoundError
from app.models import AuditEvent, Role
from app.services.paging import Page, check_first


async def record(conn: Any, *, tenant_id: UUID | None, actor_id: UUID | None, action: str,
                 target_type: str = "", target_id: str = "", data: dict[str, Any] | None = None,
                 ip: str | None = None, user_agent: str | None = None) -> None:
    """Insert one audit event on ``conn`` (inside the caller's transaction, so it commits with the change).

    ``ip`` and ``user_agent`` default to the current request's (see :mod:`app.audit_context`).
    """
    req_ip, req_agent = current_requester()
    ip, user_agent = ip or req_ip, user_agent or req_agent
    await AuditEvent.create(tenant_id=tenant_id, actor_id=actor_id, action=action, target_type=target_type,
                            target_id=target_id, data=data or {}, ip=ip,
                            user_agent=(user_agent or None) and user_agent[:256], using_db=conn)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Optional narrowing: ``action`` (exact, or a prefix ending in ``.``), actor, target, tenant
    (platform admins only), and a time window."""

    action: str | None = None
    actor_id: UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    tenant_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Any, f: AuditFilter) -> Any:
    if f.action:
        query = query.filter(action__startswith=f.action) if f.action.endswith(".") else query.filter(action=f.action)
    for name in ("actor_id", "target_type", "target_id", "tenant_id"):
        if getattr(f, name) is not None:
            query = query.filter(**{name: getattr(f, name)})
    if f.since is not None:
        query = query.filter(created_at__gte=f.since)
    if f.until is not None:
        query = query.filter(created_at__lt=f.until)
    return query


async def list_events(principal: Principal, *, first: int, after: int | None,
                      where: AuditFilter | None = None) -> Page[AuditEvent]:
    """Newest first, keyset on the (monotonic) id. Tenant admins see their tenant (RLS); platform
    admins see every tenant (and may filter by one).

    Raises:
        PermissionDeniedError: the caller is neither a tenant admin nor a platform admin.
        ValidationError: ``first`` out of range.
        NotFoundError: a tenant admin filtered by another tenant.
    """
    check_first(first)
    f = where or AuditFilter()
    if not principal.is_platform_admin:
        principal.require(Role.ADMIN)
        if f.tenant_id is not None and f.tenant_id != principal.tenant_id:
            raise NotFoundError("tenant not found", "filter.tenantId")  # another tenant is "not found"
    tx = system_tx() if principal.is_platform_admin else tenant_tx(principal.tenant_id)
    async with tx as conn:
        query = _filtered(AuditEvent.all().using_db(conn), f)
        if after is not None:
            query = query.filter(id__lt=after)
        rows = await query.order_by("-id").limit(first + 1)
    return Page(items=list(rows[:first]), has_next=len(rows) > first, has_previous=after is not None)


async def by(conn: Any, principal: Principal, action: str, target_type: str = "", target_id: object = "",
             data: dict[str, Any] | None = None) -> None:
    """One-line call sites: ``await audit.by(conn, principal, "render.started", "job", job.id)``."""
    await record(conn, tenant_id=principal.tenant_id if principal.actor_id else None, actor_id=principal.actor_id,
                 action=action, target_type=target_type, target_id=str(target_id), data=data)


async def downloaded(tenant_id: UUID, owner_kind: str, owner_id: object, filename: str) -> None:
    """A signed-link download started (the first byte range only, not every ranged read of a player)."""
    async with tenant_tx(tenant_id) as conn:
        await record(conn, tenant_id=tenant_id, actor_id=None, action="download.started", target_type=owner_kind,
                     target_id=str(owner_id), data={"file": filename})
