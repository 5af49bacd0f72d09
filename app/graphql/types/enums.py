"""The database enums, registered as GraphQL enums (values are the stored strings, names upper case).

Import them from here in GraphQL types so the registration has happened.
"""

from __future__ import annotations

import strawberry

from app.models.enums import AssetKind, AssetStatus, JobState, Role, Stage, StageState

for _enum in (AssetKind, AssetStatus, JobState, Role, Stage, StageState):
    strawberry.enum(_enum)

__all__ = ["AssetKind", "AssetStatus", "JobState", "Role", "Stage", "StageState"]
