"""The corpus' vocabulary: a ``Case`` (an async probe returning the stable code it observed, the codes
accepted, what of the ATTACKER's own state it may change) and the ``Ctx`` probes run with.

Observed codes: a GraphQL top-level ``extensions.code``, else the first typed error's ``code`` in
``data``, else ``OK``; a tus/HTTP JSON body's ``error.code``; ``HTTP_<status>`` for answers without a
body (HEAD) or without JSON. The victim tenant B never changes; nor does anything of A outside
``Case.changes``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.config import Settings
from app.models import Asset, Invitation, Job, Project, Role, Tenant, User

CASE_TIMEOUT_S = 30.0  # a hang guard, not a speed assert
E = "__typename ... on Error { code field }"


@dataclass
class Org:
    tenant: Tenant
    users: dict[Role, User]
    tokens: dict[Role, str]
    project: Project
    asset: Asset
    job: Job
    invitation: Invitation | None = None
    upload_url: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    run: Callable[[Ctx], Awaitable[str]]
    expect: tuple[str, ...]
    #: Tables of the attacker's tenant this case may change (its own refused upload's rows).
    changes: frozenset[str] = frozenset()
    #: Set when a defect owned by another branch makes the case fail today.
    xfail: str | None = None


def typed_code(data: Any) -> str | None:
    """The ``code`` of the first typed error (``__typename`` ...Error) anywhere in ``data``."""
    if isinstance(data, dict):
        if isinstance(data.get("code"), str) and str(data.get("__typename", "")).endswith("Error"):
            return str(data["code"])
        values: Any = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return None
    for value in values:
        found = typed_code(value)
        if found is not None:
            return found
    return None


def graphql_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP_{response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP_{response.status_code}"
    if body.get("errors"):
        return str((body["errors"][0].get("extensions") or {}).get("code") or "NO_CODE")
    return typed_code(body.get("data")) or "OK"


def http_code(response: httpx.Response) -> str:
    """``error.code`` of a JSON error body, ``Recap-Error-Code`` of a refused file, else HTTP_<status>."""
    if response.headers.get("recap-error-code"):
        return response.headers["recap-error-code"]
    try:
        body = response.json()
    except ValueError:
        return f"HTTP_{response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code"))
    if isinstance(body, dict) and body.get("errors"):
        return graphql_code(response)
    return f"HTTP_{response.status_code}"


def metadata(**values: str | bytes) -> str:
    def enc(v: str | bytes) -> str:
        return base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode()
    return ",".join(f"{k} {enc(v)}" for k, v in values.items())


@dataclass
class Ctx:
    base: str
    http: httpx.AsyncClient
    a: Org
    b: Org
    settings: Settings
    scratch: dict[str, Any] = field(default_factory=dict)

    def token(self, role: Role = Role.EDITOR) -> str:
        return self.a.tokens[role]

    async def post_graphql(self, *, content: bytes | None = None, json_body: Any = None, token: str | None = None,
                           headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            content = json.dumps(json_body).encode()
        return await self.http.post("/graphql", content=content or b"", headers=sent)

    async def gql(self, query: str, variables: Any = None, *, role: Role = Role.EDITOR,
                  token: str | None = None) -> str:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return graphql_code(await self.post_graphql(json_body=body, token=token or self.token(role)))

    def tus_headers(self, role: Role = Role.EDITOR, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.a.tokens[role]}", "Tus-Resumable": "1.0.0", **extra}

    async def tus_create(self, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post("/uploads/", headers=headers)

    async def open_upload(self, org: Org | None = None, *, length: int = 10, filename: str = "m.mp4",
                          kind: str = "source_video") -> str:
        """Location of a new upload of ``org`` (A by default) into its project."""
        org = org or self.a
        headers = {"Authorization": f"Bearer {org.tokens[Role.EDITOR]}", "Tus-Resumable": "1.0.0",
                   "Upload-Length": str(length),
                   "Upload-Metadata": metadata(filename=filename, projectId=str(org.project.id), kind=kind)}
        created = await self.http.post("/uploads/", headers=headers)
        assert created.status_code == 201, created.text
        return str(httpx.URL(created.headers["Location"]).path)

    async def patch(self, location: str, body: bytes | Any, *, offset: int = 0, role: Role = Role.EDITOR,
                    **extra: str) -> httpx.Response:
        headers = self.tus_headers(role, **{"Upload-Offset": str(offset),
                                            "Content-Type": "application/offset+octet-stream", **extra})
        return await self.http.patch(location, headers=headers, content=body)

    async def upload_file(self, data: bytes, *, kind: str = "source_video", filename: str = "movie.mp4") -> str:
        """Create and send ``data`` in one PATCH; the code of the answer (``OK`` when the file was taken)."""
        location = await self.open_upload(length=len(data), filename=filename, kind=kind) if data else ""
        if not data:
            created = await self.tus_create(self.tus_headers(**{"Upload-Length": "0", "Upload-Metadata": metadata(
                filename=filename, projectId=str(self.a.project.id), kind=kind)}))
            return http_code(created) if created.status_code != 201 or created.headers.get(
                "recap-error-code") else "OK"
        answer = await self.patch(location, data)
        return "OK" if answer.status_code == 204 and not answer.headers.get("recap-error-code") else http_code(answer)
