"""Mutation ``requestDataExport``: queue a zip of everything Recap holds about the caller (GDPR Art. 15/20)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import RateLimitedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.governance import DataExport
from app.services import export

RequestDataExportResult = Annotated[DataExport | RateLimitedError, strawberry.union("RequestDataExportResult")]


@strawberry.type
class RequestDataExportMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Export your data: a worker builds a zip; `dataExport(id)` gives its "
                                     "expiring download link when ready (one export at a time).")
    async def request_data_export(self, info: Info[RecapContext, Any]) -> RequestDataExportResult:
        try:
            row = await export.request_data_export(info.context.principal(), info.context.settings)
        except AppError as ex:
            return error_for(ex, RequestDataExportResult)
        return DataExport.from_model(row, info.context.settings)
