"""Input of ``prepareUpload``."""

from __future__ import annotations

import strawberry

from app.graphql.types.enums import AssetKind
from app.graphql.types.scalars import BigInt


@strawberry.input
class PrepareUploadInput:
    project_id: strawberry.ID
    filename: str = strawberry.field(description="Display name only; it is sanitised and never becomes a path.")
    kind: AssetKind = AssetKind.SOURCE_VIDEO
    size: BigInt | None = strawberry.field(default=None, description="Bytes, when known: checked against the "
                                                                     "size limit and the storage quota now.")
