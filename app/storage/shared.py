"""One storage client per process and backend configuration, closed once at shutdown.

Storages hold connections (Google Drive: an aiohttp session and a token source), so making one per
call leaks them. Everything in the API process uses these: the app's lifespan, the services, the routes.

    storage = shared_storage(settings)       # the same object for equal storage settings
    storage = request_storage(request)       # the app's own (app.state.storage), else the shared one
    await close_shared_storages()            # lifespan shutdown
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.storage import Storage, get_storage

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger(__name__)
_storages: dict[str, Storage] = {}


def _key(settings: Settings) -> str:
    return f"{settings.storage.model_dump_json()}|{settings.storage_root}"


def shared_storage(settings: Settings) -> Storage:
    """The process's storage for ``settings.storage`` (made on first use)."""
    key = _key(settings)
    storage = _storages.get(key)
    if storage is None:
        storage = _storages[key] = get_storage(settings)
    return storage


def request_storage(request: Any) -> Storage:
    """The storage of the app serving ``request`` (``app.state.storage``), set up by the lifespan."""
    state = request.app.state
    storage = getattr(state, "storage", None)
    if storage is None:
        storage = state.storage = shared_storage(state.settings)
    return storage  # type: ignore[no-any-return]


async def close_shared_storages() -> None:
    """Close every shared storage (each once); a failing close is logged, not raised."""
    storages = list({id(s): s for s in _storages.values()}.values())
    _storages.clear()
    for storage in storages:
        try:
            await storage.close()
        except Exception as ex:  # shutting down: one broken backend must not keep the others open
            log.warning("closing %s failed: %s", type(storage).__name__, ex)


__all__ = ["close_shared_storages", "request_storage", "shared_storage"]
