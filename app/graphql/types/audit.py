"""Audit trail: ``AuditEvent`` nodes, their connection and the filter input."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.errors import ValidationError
from app.graphql.pagination import Edge, PageInfo
from app.models import AuditEvent as AuditEventModel
from app.services.paging import Page

_CURSOR = "a1|"


@strawberry.type(description="One security- or data-relevant action (append-only).")
class AuditEvent:
    id: strawberry.ID
    tenant_id: strawberry.ID | None
    actor_id: strawberry.ID | None = strawberry.field(description="Null for the operator or an erased user.")
    action: str
    target_type: str
    target_id: str
    data: JSON
    ip: str | None
    user_agent: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: AuditEventModel) -> AuditEvent:
        r: Any = row
        return cls(id=strawberry.ID(str(row.id)), tenant_id=_id(r.tenant_id), actor_id=_id(r.actor_id),
                   action=row.action, target_type=row.target_type, target_id=row.target_id, data=row.data,
                   ip=row.ip, user_agent=row.user_agent, created_at=row.created_at)


def _id(value: object) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.input(description="Narrows auditEvents; every field is optional.")
class AuditEventFilter:
    action: str | None = strawberry.field(default=None, description="Exact, or a prefix ending in '.' (\"render.\").")
    actor_id: strawberry.ID | None = None
    target_type: str | None = None
    target_id: str | None = None
    tenant_id: strawberry.ID | None = strawberry.field(default=None, description="Platform admins only.")
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(name="AuditEventConnection", description="A page of audit events (newest first).")
class AuditEventConnection:
    edges: list[Edge[AuditEvent]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[AuditEvent]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: Page[AuditEventModel]) -> AuditEventConnection:
        edges = [Edge(cursor=encode_cursor(row.id), node=AuditEvent.from_model(row)) for row in page.items]
        info = PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous,
                        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None)
        return cls(edges=edges, page_info=info)


def encode_cursor(ident: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR}{ident}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The event id after which the page starts; ValidationError("after") when malformed."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_CURSOR):
            raise ValueError(raw)
        return int(raw[len(_CURSOR):])
    except (ValueError, UnicodeDecodeError) as ex:
        raise ValidationError("malformed cursor", "after") from ex
