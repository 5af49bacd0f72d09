"""Keyset pagination on ``(created_at, id)``, newest first: no OFFSET, one indexed range scan per page.

    page = await keyset_page(Project.filter(tenant_id=t).using_db(conn), first=20, after=(ts, pid))
    page.items, page.has_next
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from tortoise.expressions import Q

from app.errors import ValidationError

T = TypeVar("T")
MAX_PAGE = 100
Position = tuple[datetime, UUID]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    has_previous: bool


def check_first(first: int, *, field: str = "first") -> int:
    """``first`` if within 0..MAX_PAGE, else ValidationError(field)."""
    if first < 0 or first > MAX_PAGE:
        raise ValidationError(f"{field} must be between 0 and {MAX_PAGE}", field)
    return first


async def keyset_page(query: Any, *, first: int, after: Position | None) -> Page[Any]:
    """One page of ``query`` ordered by (created_at, id) descending, starting after ``after``."""
    check_first(first)
    if after is not None:
        created, ident = after
        query = query.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=ident))
    rows = list(await query.order_by("-created_at", "-id").limit(first + 1))
    return Page(rows[:first], len(rows) > first, after is not None)
