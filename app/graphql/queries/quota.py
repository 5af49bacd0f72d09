"""Query: ``quota``."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.context import RecapContext
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.quota import Quota
from app.services import quota


@strawberry.type
class QuotaQuery:
    @strawberry.field(permission_classes=AUTHENTICATED, description="Your tenant's limits and current usage.")
    async def quota(self, info: Info[RecapContext, Any]) -> Quota:
        report = await quota.get_quota(info.context.principal(), defaults=info.context.settings.quota)
        return Quota.from_report(report)
