"""The outbox: messages for people (by email address), written in the transaction of the change they report.

No mail transport is wired yet: in development the outbox IS the delivery (``recap admin outbox EMAIL``
prints what was sent to an address); a mailer would read unsent rows and set ``sent_at``.

    await enqueue(conn, recipient="bob@example.com", kind="invitation", subject="...", body="...")
    messages = await messages_for("bob@example.com")
"""

from __future__ import annotations

from typing import Any

from app.db import system_tx
from app.models import OutboxMessage
from app.services.text import normalize_email


async def enqueue(conn: Any, *, recipient: str, kind: str, subject: str, body: str) -> None:
    """Queue one message on ``conn`` (it commits, or not, with the caller's change)."""
    await OutboxMessage.create(recipient=normalize_email(recipient), kind=kind, subject=subject, body=body,
                               using_db=conn)


async def messages_for(recipient: str, *, limit: int = 20) -> list[OutboxMessage]:
    """The newest messages for ``recipient`` (admin/dev tooling and tests; never exposed to tenants)."""
    async with system_tx() as conn:
        return await (OutboxMessage.filter(recipient=normalize_email(recipient)).using_db(conn)
                      .order_by("-created_at").limit(limit))
