"""Google credentials for the Drive backend, on aiogoogle's managers.

A credentials file is either a service-account key (``"type": "service_account"``; the JWT grant
goes to its ``token_uri``) or OAuth user credentials (``"type": "authorized_user"`` with
``client_id``, ``client_secret``, ``refresh_token`` and optionally ``token_uri``).

    tokens = load_token_source(Path("sa.json"))
    headers = {"Authorization": f"Bearer {await tokens.token()}"}
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Protocol

import aiogoogle.auth.creds as _creds_module
import aiogoogle.auth.managers as _managers_module

from app.storage.errors import StorageUnavailableError

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
# aiogoogle ships no type information worth checking against.
_creds: Any = _creds_module
_managers: Any = _managers_module


class TokenSource(Protocol):
    async def token(self) -> str:
        """A valid access token (refreshed when expired)."""
        ...


class ServiceAccountTokens:
    """Service-account JWT grant through aiogoogle's ServiceAccountManager."""

    def __init__(self, info: dict[str, Any]) -> None:
        creds = dict(info)
        creds.setdefault("scopes", [DRIVE_SCOPE])
        self._manager: Any = _managers.ServiceAccountManager(creds=creds)
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            try:
                await self._manager.refresh()
            except Exception as ex:  # aiogoogle raises several unrelated types (HTTPError, AuthError, KeyError)
                raise StorageUnavailableError("cannot obtain a Google access token") from ex
            return str(self._manager._access_token)


class UserTokens:
    """OAuth user credentials refreshed through aiogoogle's Oauth2Manager."""

    def __init__(self, info: dict[str, Any]) -> None:
        self._client = _creds.ClientCreds(client_id=info["client_id"], client_secret=info["client_secret"],
                                   scopes=[DRIVE_SCOPE])
        self._manager: Any = _managers.Oauth2Manager(client_creds=self._client)
        configs = dict(_managers.WELLKNOWN_OPENID_CONFIGS)
        if info.get("token_uri"):
            configs["token_endpoint"] = info["token_uri"]
        self._manager.openid_configs = configs
        self._creds = _creds.UserCreds(refresh_token=info["refresh_token"], access_token=info.get("access_token"),
                                expires_at=info.get("expires_at"))
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            try:
                _refreshed, self._creds = await self._manager.refresh(self._creds, self._client)
            except Exception as ex:  # see ServiceAccountTokens.token
                raise StorageUnavailableError("cannot refresh the Google user token") from ex
            return str(self._creds["access_token"])


def load_token_source(path: Path) -> TokenSource:
    """Read a service-account key or OAuth user credentials file."""
    info = json.loads(path.read_text())
    if info.get("type") == "service_account" or "private_key" in info:
        return ServiceAccountTokens(info)
    if "refresh_token" in info:
        return UserTokens(info)
    raise ValueError("credentials file is neither a service-account key nor OAuth user credentials")
