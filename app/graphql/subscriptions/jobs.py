"""Subscriptions: ``jobProgress(jobId)`` and ``projectEvents(projectId)`` over graphql-transport-ws.

Auth and tenant scope are checked at subscribe time (the token from ``connection_init``);
another tenant's job is NOT_FOUND. The first event is a snapshot from PostgreSQL. Each live
subscription holds one of the user's ``RECAP_RATELIMIT__MAX_SUBSCRIPTIONS_PER_USER`` slots
(RATE_LIMITED past it), across connections and API pods.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import RecapContext
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.render import ProgressEvent
from app.metrics import counted_subscription
from app.ratelimit.live import subscription_slot
from app.services import progress
from app.services.text import parse_id


@strawberry.type
class JobSubscription:
    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="A snapshot, then live progress of one job until it ends.")
    async def job_progress(self, info: Info[RecapContext, Any], job_id: strawberry.ID
                           ) -> AsyncGenerator[ProgressEvent, None]:
        principal = info.context.principal()
        settings = info.context.settings
        assert settings.redis_url
        async with subscription_slot(principal, settings):
            async for event, stages in counted_subscription(progress.job_events(
                    principal, parse_id(job_id, what="job", field="jobId"), settings.redis_url)):
                yield ProgressEvent.from_event(event, stages)  # type: ignore[arg-type]

    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="Events of every job of a project (snapshots of running jobs first).")
    async def project_events(self, info: Info[RecapContext, Any], project_id: strawberry.ID
                             ) -> AsyncGenerator[ProgressEvent, None]:
        principal = info.context.principal()
        settings = info.context.settings
        assert settings.redis_url
        async with subscription_slot(principal, settings):
            async for event, stages in counted_subscription(progress.project_events(
                    principal, parse_id(project_id, what="project", field="projectId"), settings.redis_url)):
                yield ProgressEvent.from_event(event, stages)  # type: ignore[arg-type]
