"""Mutation ``prepareUpload`` (editors+): the tus endpoint and the metadata to send with the file."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.errors import NotFoundError as AppNotFoundError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, QuotaExceededError, ValidationError, error_for
from app.graphql.inputs.prepare_upload import PrepareUploadInput
from app.graphql.permissions import AUTHENTICATED
from app.graphql.types.prepare_upload import UploadTicket
from app.models.enums import AssetKind
from app.uploads import service
from app.urls import public_url

PrepareUploadResult = Annotated[
    UploadTicket | ValidationError | NotFoundError | PermissionDeniedError | QuotaExceededError,
    strawberry.union("PrepareUploadResult")]


@strawberry.type
class PrepareUploadMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def prepare_upload(self, info: Info[RecapContext, Any], input: PrepareUploadInput) -> PrepareUploadResult:
        settings = info.context.settings
        try:
            try:
                project_id = UUID(str(input.project_id))
            except ValueError:
                raise AppNotFoundError("project not found", "projectId") from None
            metadata = await service.prepare_upload(info.context.principal(), settings, project_id=project_id,
                                                    filename=input.filename, kind=AssetKind(input.kind),
                                                    size=input.size)
        except AppError as ex:
            return error_for(ex, PrepareUploadResult)
        return UploadTicket.build(public_url(settings, "/uploads/"), metadata,
                                  max_size=settings.uploads.max_size_bytes,
                                  expires_in=settings.uploads.expiry_seconds)
