"""One module per pipeline stage; each has ``input_hash(sc)`` and ``run(sc, out)``.

``input_hash`` returns the content hash of the stage's inputs (None: not cacheable);
``run`` writes the artifact's files into ``out`` and returns metadata for the row.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from app.models import Stage
from runners.context import StageContext


class StageImpl(Protocol):
    async def input_hash(self, sc: StageContext) -> str | None: ...

    async def run(self, sc: StageContext, out: Path) -> dict[str, Any]: ...


def get(stage: Stage) -> StageImpl:
    module: Any = import_module(f"runners.stages.{stage.value}")
    return module  # type: ignore[no-any-return]
