"""Mutation ``deleteAsset`` (editors+): its stored file goes, storage is credited, active jobs are cancelled."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.errors import AppError
from app.graphql.context import RecapContext
from app.graphql.errors import NotFoundError, PermissionDeniedError, error_for
from app.graphql.permissions import AUTHENTICATED
from app.services import projects
from app.services.text import parse_id


@strawberry.type
class DeleteAssetPayload:
    deleted_id: strawberry.ID


DeleteAssetResult = Annotated[DeleteAssetPayload | NotFoundError | PermissionDeniedError,
                            strawberry.union("DeleteAssetResult")]


@strawberry.type
class DeleteAssetMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Delete an asset and its stored file; the project's active jobs are "
                                     "cancelled, its signed links stop working, storage is credited.")
    async def delete_asset(self, info: Info[RecapContext, Any], id: strawberry.ID) -> DeleteAssetResult:
        try:
            deleted = await projects.delete_asset(info.context.principal(), parse_id(id, what="asset"),
                                                settings=info.context.settings)
        except AppError as ex:
            return error_for(ex, DeleteAssetResult)
        return DeleteAssetPayload(deleted_id=strawberry.ID(str(deleted)))
