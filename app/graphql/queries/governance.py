"""Queries: ``dataExport``, ``retentionPolicy``, ``retentionPreview``."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.governance import DataExport, RetentionPolicy, RetentionPreview
from app.models import Role
from app.services import export, retention
from app.services.text import parse_id
from app.storage import get_storage

DataExportResult = Annotated[DataExport | NotFoundError, strawberry.union("DataExportResult")]


@strawberry.type
class GovernanceQuery:
    @strawberry.field(permission_classes=AUTHENTICATED, description="One of your data exports.")
    async def data_export(self, info: Info[RecapContext, Any], id: strawberry.ID) -> DataExportResult:
        try:
            row, _ = await export.get_data_export(info.context.principal(), parse_id(id, what="export"),
                                                  info.context.settings)
        except AppError as ex:
            return error_for(ex, DataExportResult)
        return DataExport.from_model(row, info.context.settings)

    @strawberry.field(permission_classes=AUTHENTICATED, description="Your tenant's retention policy.")
    async def retention_policy(self, info: Info[RecapContext, Any]) -> RetentionPolicy:
        return RetentionPolicy.from_model(await retention.get_retention_policy(info.context.principal()))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="A dry run of your tenant's retention policy (admins+): what would go now.")
    async def retention_preview(self, info: Info[RecapContext, Any]) -> RetentionPreview:
        principal = info.context.principal()
        principal.require(Role.ADMIN)
        storage = get_storage(info.context.settings)
        try:
            report = await retention.enforce(info.context.settings, storage, dry_run=True,
                                             tenant_id=principal.tenant_id)
        finally:
            await storage.close()
        return RetentionPreview.from_report(report.tenants[0] if report.tenants else None)
