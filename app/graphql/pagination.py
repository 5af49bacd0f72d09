"""Relay-style connections with opaque cursors over keyset pages.

A cursor encodes the (created_at, id) position of an edge; clients must treat it as opaque.

    page = await list_projects(principal, first=first, after=decode_cursor(after))
    return connection(page, Project.from_model)
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import strawberry

from app.errors import ValidationError
from app.services.paging import Page, Position

T = TypeVar("T")
M = TypeVar("M")
_VERSION = "k1"


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(created_at: datetime, ident: UUID) -> str:
    raw = f"{_VERSION}|{created_at.isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, field: str = "after") -> Position | None:
    """The position of ``cursor`` (None for None); ValidationError(field) for anything malformed."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, created, ident = raw.split("|")
        if version != _VERSION:
            raise ValueError(version)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, UUID(ident)
    except (ValueError, UnicodeDecodeError) as ex:
        raise ValidationError("malformed cursor", field) from ex


def connection(page: Page[M], convert: Callable[[M], T], cls: type[Connection[T]] = Connection) -> Connection[T]:
    """A ``cls`` connection of ``page``'s items (which have ``created_at`` and ``id``) converted by ``convert``.

    Pass a concrete subclass (``JobConnection``) where the connection is a union member.
    """
    edges: list[Edge[T]] = []
    for item in page.items:
        model: Any = item
        edges.append(Edge(cursor=encode_cursor(model.created_at, model.id), node=convert(item)))
    info = PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous,
                    start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None)
    return cls(edges=edges, page_info=info)
