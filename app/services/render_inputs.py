"""The assets a render's options name, checked at ``startRender`` (never left for a worker to trip on).

Every named asset must be the caller's tenant's (RLS and the filter: another tenant's is "not found"),
of the render's project, of the right kind and READY::

    sources = await check_option_assets(conn, tenant_id, project.id, options)   # the job's sources, in order
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from app.errors import NotFoundError, ValidationError
from app.models import Asset, AssetKind, AssetStatus


class AssetOptions(Protocol):
    @property
    def source_asset_ids(self) -> list[str]: ...
    @property
    def script_asset_id(self) -> str | None: ...
    @property
    def narration_asset_id(self) -> str | None: ...


async def _named(conn: Any, tenant_id: UUID, project_id: UUID, asset_id: str, kind: AssetKind,
                 field: str) -> Asset:
    asset = await Asset.filter(id=asset_id, tenant_id=tenant_id, project_id=project_id).using_db(conn).first()
    if asset is None:
        raise NotFoundError(f"asset {asset_id} is not in this project", field)
    if asset.kind is not kind:
        raise ValidationError(f"asset {asset_id} is a {asset.kind.value}, not a {kind.value}", field,
                              code="WRONG_ASSET_KIND")
    if asset.status is not AssetStatus.READY:
        raise ValidationError(f"asset {asset_id} is {asset.status.value}, not ready", field, code="ASSET_NOT_READY")
    return asset


async def check_option_assets(conn: Any, tenant_id: UUID, project_id: UUID, options: AssetOptions) -> list[Asset]:
    """The sources (the named ones in order, else every ready source video by upload time); raises
    NotFoundError / ValidationError (``WRONG_ASSET_KIND``, ``ASSET_NOT_READY``) naming the option."""
    if options.script_asset_id:
        await _named(conn, tenant_id, project_id, options.script_asset_id, AssetKind.SCRIPT, "scriptAssetId")
    if options.narration_asset_id:
        await _named(conn, tenant_id, project_id, options.narration_asset_id, AssetKind.NARRATION_AUDIO,
                     "narrationAssetId")
    if options.source_asset_ids:
        return [await _named(conn, tenant_id, project_id, a, AssetKind.SOURCE_VIDEO, "sourceAssetIds")
                for a in options.source_asset_ids]
    sources = await Asset.filter(project_id=project_id, tenant_id=tenant_id, kind=AssetKind.SOURCE_VIDEO,
                                 status=AssetStatus.READY).using_db(conn).order_by("created_at", "id")
    if not sources:
        raise ValidationError("the project has no ready source video; upload one first", "projectId")
    return list(sources)
