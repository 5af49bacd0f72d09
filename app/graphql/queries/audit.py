"""Query: ``auditEvents(first, after, filter)`` for tenant admins (their tenant) and platform admins (all)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, ValidationError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.audit import AuditEventConnection, AuditEventFilter, decode_cursor
from app.services import audit
from app.services.text import parse_id

AuditEventsResult = Annotated[AuditEventConnection | ValidationError | PermissionDeniedError | NotFoundError,
                              strawberry.union("AuditEventsResult")]


def _filter(f: AuditEventFilter | None) -> audit.AuditFilter:
    if f is None:
        return audit.AuditFilter()
    return audit.AuditFilter(
        action=f.action, target_type=f.target_type, target_id=f.target_id, since=f.since, until=f.until,
        actor_id=None if f.actor_id is None else parse_id(f.actor_id, what="user", field="filter.actorId"),
        tenant_id=None if f.tenant_id is None else parse_id(f.tenant_id, what="tenant", field="filter.tenantId"))


@strawberry.type
class AuditQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The audit trail, newest first: your tenant (admins+), or every tenant (platform "
                                  "admins).")
    async def audit_events(self, info: Info[RecapContext, Any], first: int = 20, after: str | None = None,
                           filter: AuditEventFilter | None = None) -> AuditEventsResult:
        try:
            page = await audit.list_events(info.context.principal(), first=first, after=decode_cursor(after),
                                           where=_filter(filter))
        except AppError as ex:
            return error_for(ex, AuditEventsResult)
        return AuditEventConnection.from_page(page)
