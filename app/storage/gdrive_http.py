"""A thin Drive v3 HTTP client: authorised aiohttp calls against a configurable API base URL.

aiogoogle provides the credentials (see :mod:`app.storage.gdrive_auth`); the data-plane calls go
through one aiohttp session (aiogoogle's transport) because they need what aiogoogle's request
model does not expose: 308 answers without redirect handling, streamed ranged bodies.

    http = DriveHttp("https://www.googleapis.com", tokens)
    result = await http.call("GET", "/drive/v3/files", params={"q": "trashed = false"})
    await http.close()
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from app.storage.errors import ObjectNotFoundError, StorageUnavailableError
from app.storage.gdrive_auth import TokenSource

GENERATE_BATCH = 10


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> dict[str, Any]:
        data = json.loads(self.body or b"{}")
        if not isinstance(data, dict):
            raise StorageUnavailableError("Drive answered something other than a JSON object")
        return data


class DriveHttp:
    """Authorised requests to ``base`` (``https://www.googleapis.com`` in production)."""

    def __init__(self, base: str, tokens: TokenSource, *, read_timeout: float = 120.0) -> None:
        self.base = base.rstrip("/")
        self.tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._ids: list[str] = []

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def url(self, path_or_url: str) -> str:
        return path_or_url if path_or_url.startswith(("http://", "https://")) else self.base + path_or_url

    async def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {await self.tokens.token()}"}
        headers.update(extra or {})
        return headers

    async def call(self, method: str, path_or_url: str, *, params: Mapping[str, str] | None = None,
                   json_body: Any = None, headers: Mapping[str, str] | None = None,
                   data: bytes | None = None) -> HttpResult:
        """One request; the whole (small) answer body is read. Never follows redirects (308 = resume)."""
        body = json.dumps(json_body).encode() if json_body is not None else data
        async with self._client().request(method, self.url(path_or_url), params=params, data=body,
                                          headers=await self._headers(headers), allow_redirects=False) as resp:
            return HttpResult(resp.status, resp.headers, await resp.read())

    async def stream(self, path: str, *, params: Mapping[str, str], headers: Mapping[str, str],
                     chunk_size: int = 1024 * 1024) -> AsyncIterator[tuple[int, bytes]]:
        """Yield ``(status, chunk)`` of a streamed answer; a non-2xx answer yields once with its body."""
        async with self._client().get(self.url(path), params=params, headers=await self._headers(headers),
                                      allow_redirects=False) as resp:
            if resp.status >= 300:
                yield resp.status, await resp.read()
                return
            async for chunk in resp.content.iter_chunked(chunk_size):
                yield resp.status, chunk

    async def generate_id(self) -> str:
        """One pre-generated Drive file id (fetched in small batches)."""
        if not self._ids:
            result = await self.call("GET", "/drive/v3/files/generateIds",
                                     params={"count": str(GENERATE_BATCH), "space": "drive", "type": "files"})
            if result.status != 200:
                raise StorageUnavailableError(f"Drive generateIds failed ({result.status})")
            self._ids = [str(i) for i in result.json()["ids"]]
        return self._ids.pop()

    async def file_metadata(self, file_id: str) -> dict[str, Any]:
        result = await self.call("GET", f"/drive/v3/files/{file_id}",
                                 params={"fields": "id,name,size,modifiedTime,md5Checksum",
                                         "supportsAllDrives": "true"})
        if result.status == 404:
            raise ObjectNotFoundError(f"no Drive file {file_id}")
        if result.status != 200:
            raise StorageUnavailableError(f"Drive metadata failed ({result.status})")
        return result.json()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
