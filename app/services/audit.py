"""Audit trail: security- and data-relevant actions (logins, logouts, role changes, token reuse, ...).

Rows are append-only for the app role (a trigger refuses UPDATE and DELETE, migration 0006_moder_audit);
``data`` must never hold secrets (tokens, passwords, signed links).

    await record(conn, tenant_id=t, actor_id=u, action="member.role_changed", target_type="user",
                 target_id=str(other), data={"from": "viewer", "to": "editor"})
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.models import AuditEvent


async def record(conn: Any, *, tenant_id: UUID | None, actor_id: UUID | None, action: str,
                 target_type: str = "", target_id: str = "", data: dict[str, Any] | None = None,
                 ip: str | None = None, user_agent: str | None = None) -> None:
    """Insert one audit event on ``conn`` (inside the caller's transaction, so it commits with the change)."""
    await AuditEvent.create(tenant_id=tenant_id, actor_id=actor_id, action=action, target_type=target_type,
                            target_id=target_id, data=data or {}, ip=ip,
                            user_agent=(user_agent or None) and user_agent[:256], using_db=conn)
