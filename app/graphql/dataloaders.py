"""DataLoaders, made fresh for every operation (never shared by the operations of one websocket).

The schema's per-operation extension calls ``start_operation_loaders()`` (a ContextVar scope per
operation); resolvers get the loaders of their own operation with ``loaders(info)``. Each loader batches
one service call, which scopes by the caller's tenant.

    assets = await loaders(info).assets.load(project.id)
    page = await loaders(info).jobs.load(JobsKey(project.id, first=20, after=None))
"""

from __future__ import annotations

from collections import defaultdict
from contextvars import ContextVar
from typing import Any, NamedTuple
from uuid import UUID

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from app.auth.principal import Principal
from app.errors import AppError
from app.models import Asset, Job, StageRun
from app.services import jobs_read, projects
from app.services.paging import Page, Position

_CURRENT: ContextVar[Loaders | None] = ContextVar("recap_loaders", default=None)


class JobsKey(NamedTuple):
    """One ``Project.jobs`` page: keys with the same ``first``/``after`` are batched into one query."""

    project_id: UUID
    first: int
    after: Position | None


class Loaders:
    """The loaders of one operation, created lazily with the operation's Principal."""

    def __init__(self) -> None:
        self._assets: DataLoader[UUID, list[Asset]] | None = None
        self._stages: DataLoader[UUID, list[StageRun]] | None = None
        self._jobs: DataLoader[JobsKey, Page[Job]] | None = None
        self.principal: Principal | None = None

    def _who(self) -> Principal:
        assert self.principal is not None, "loaders used before the principal was known"
        return self.principal

    @property
    def assets(self) -> DataLoader[UUID, list[Asset]]:
        if self._assets is None:
            async def load(keys: list[UUID]) -> list[list[Asset]]:
                found = await projects.assets_by_project(self._who(), list(keys))
                return [found.get(key, []) for key in keys]
            self._assets = DataLoader(load_fn=load)
        return self._assets

    @property
    def stages(self) -> DataLoader[UUID, list[StageRun]]:
        if self._stages is None:
            async def load(keys: list[UUID]) -> list[list[StageRun]]:
                found = await jobs_read.stages_by_job(self._who(), list(keys))
                return [found.get(key, []) for key in keys]
            self._stages = DataLoader(load_fn=load)
        return self._stages


    @property
    def jobs(self) -> DataLoader[JobsKey, Page[Job]]:
        if self._jobs is None:
            async def load(keys: list[JobsKey]) -> list[Page[Job] | BaseException]:
                groups: dict[tuple[int, Position | None], list[UUID]] = defaultdict(list)
                for key in keys:
                    groups[(key.first, key.after)].append(key.project_id)
                pages: dict[JobsKey, Page[Job] | BaseException] = {}
                for (first, after), project_ids in groups.items():
                    try:
                        found = await jobs_read.jobs_by_project(self._who(), project_ids, first=first, after=after)
                    except AppError as ex:  # a bad page size fails its own keys only
                        pages.update({JobsKey(pid, first, after): ex for pid in project_ids})
                        continue
                    pages.update({JobsKey(pid, first, after): page for pid, page in found.items()})
                return [pages[key] for key in keys]
            self._jobs = DataLoader(load_fn=load)
        return self._jobs


def start_operation_loaders() -> None:
    """Give the current operation (HTTP request or websocket subscription alike) its own Loaders.

    A plain ``set``: every operation runs in its own task (context copy), so nothing leaks across operations.
    """
    _CURRENT.set(Loaders())


def loaders(info: Info[Any, Any]) -> Loaders:
    """The current operation's loaders, bound to the caller's Principal."""
    current = _CURRENT.get()
    if current is None:  # outside an OperationLoaders scope (direct schema use): one per call
        current = Loaders()
    if current.principal is None:
        current.principal = info.context.principal()
    return current
