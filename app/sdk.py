"""A small async Python client of Recap's public API: GraphQL over HTTP, tus uploads, and
live progress over graphql-transport-ws. ``recap demo``, the end-to-end tests and the
benchmarks use it; it speaks only the public protocol (no imports of server internals).

    async with RecapClient("http://127.0.0.1:8000") as api:
        await api.login("me@example.com", "pass")
        job = await api.start_render(project_id, {"profile": "720p"})
        async for event in api.job_progress(job["id"]): print(event["stage"], event["progress"])
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

TUS_VERSION = "1.0.0"


class ApiError(Exception):
    """A GraphQL error (top-level or a typed error member); ``code`` is the stable code."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.field = code, message, field


def _typed(result: dict[str, Any]) -> dict[str, Any]:
    """Raise the typed error a mutation returned, else return its payload."""
    if result is None:
        raise ApiError("EMPTY", "no result")
    if "code" in result and "message" in result:
        raise ApiError(str(result["code"]), str(result["message"]), result.get("field"))
    return result


class RecapClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.refresh_token: str | None = None
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> RecapClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._http.post("/graphql", json={"query": query, "variables": variables or {}},
                                         headers=self._headers())
        body = response.json()
        if body.get("errors"):
            err = body["errors"][0]
            ext = err.get("extensions") or {}
            raise ApiError(str(ext.get("code", "GRAPHQL_ERROR")), str(err.get("message")), ext.get("field"))
        data: dict[str, Any] = body["data"]
        return data

    # --- accounts, projects, renders ------------------------------------------------------------

    _SESSION = "accessToken refreshToken tenantId role"

    async def register(self, email: str, password: str, tenant_name: str, display_name: str = "") -> dict[str, Any]:
        data = await self.graphql(
            "mutation($e:String!,$p:String!,$d:String!,$t:String!){register(email:$e,password:$p,displayName:$d,"
            "tenantName:$t){__typename ...on AuthPayload{" + self._SESSION + "} ...on Error{code message field}}}",
            {"e": email, "p": password, "d": display_name or email.split("@")[0], "t": tenant_name})
        return self._session(_typed(data["register"]))

    async def login(self, email: str, password: str) -> dict[str, Any]:
        data = await self.graphql(
            "mutation($e:String!,$p:String!){login(email:$e,password:$p){__typename ...on AuthPayload{"
            + self._SESSION + "} ...on Error{code message field}}}", {"e": email, "p": password})
        return self._session(_typed(data["login"]))

    def _session(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.token, self.refresh_token = payload["accessToken"], payload["refreshToken"]
        return payload

    async def create_project(self, name: str, description: str = "") -> dict[str, Any]:
        data = await self.graphql(
            "mutation($i:CreateProjectInput!){createProject(input:$i){__typename ...on ProjectPayload{project{id name}}"
            " ...on Error{code message field}}}", {"i": {"name": name, "description": description}})
        project: dict[str, Any] = _typed(data["createProject"])["project"]
        return project

    async def prepare_upload(self, project_id: str, kind: str, filename: str, size: int) -> dict[str, Any]:
        data = await self.graphql(
            "mutation($i:PrepareUploadInput!){prepareUpload(input:$i){__typename ...on UploadTicket{endpoint "
            "metadata{key value}} ...on Error{code message field}}}",
            {"i": {"projectId": project_id, "kind": kind, "filename": filename, "size": size}})
        return _typed(data["prepareUpload"])

    async def upload_asset(self, project_id: str, path: Path, kind: str, **kw: Any) -> str:
        """prepareUpload, then the tus upload; returns the upload URL."""
        ticket = await self.prepare_upload(project_id, kind, path.name, path.stat().st_size)
        meta = {m["key"]: m["value"] for m in ticket["metadata"]}
        return await self.tus_upload(str(httpx.URL(self.base_url + "/").join(ticket["endpoint"])), path, meta, **kw)

    async def start_render(self, project_id: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        data = await self.graphql(
            "mutation($p:ID!,$o:RenderOptionsInput){startRender(projectId:$p,options:$o){__typename "
            "...on JobPayload{job{id state}} ...on Error{code message field}}}", {"p": project_id, "o": options})
        job: dict[str, Any] = _typed(data["startRender"])["job"]
        return job

    async def job(self, job_id: str) -> dict[str, Any]:
        data = await self.graphql(
            "query($j:ID!){job(id:$j){__typename ...on Job{id state progress errorCode errorMessage outputs "
            "stages{stage state attempt progress cached errorCode}} ...on Error{code message}}}", {"j": job_id})
        return _typed(data["job"])

    async def cancel(self, job_id: str) -> dict[str, Any]:
        data = await self.graphql("mutation($j:ID!){cancelJob(jobId:$j){__typename ...on JobPayload{job{id state}}"
                                  " ...on Error{code message field}}}", {"j": job_id})
        job: dict[str, Any] = _typed(data["cancelJob"])["job"]
        return job

    async def retry(self, job_id: str) -> dict[str, Any]:
        data = await self.graphql("mutation($j:ID!){retryJob(jobId:$j){__typename ...on JobPayload{job{id state}}"
                                  " ...on Error{code message field}}}", {"j": job_id})
        job: dict[str, Any] = _typed(data["retryJob"])["job"]
        return job

    JOB_PROGRESS = ("subscription($j:ID!){jobProgress(jobId:$j){jobId projectId seq kind stage state progress "
                    "message at stages}}")

    async def job_progress(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        async for data in self.subscribe(self.JOB_PROGRESS, {"j": job_id}):
            yield data["jobProgress"]

    # --- tus uploads --------------------------------------------------------------------------

    async def tus_upload(self, endpoint: str, path: Path, metadata: dict[str, str], *,
                         chunk_size: int = 8 * 1024 * 1024, checksum: bool = True) -> str:
        """Upload ``path`` with tus (creation + checksum); resumes from the server's offset. Returns its URL."""
        size = path.stat().st_size
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())
        headers = {"Tus-Resumable": TUS_VERSION, "Upload-Length": str(size), "Upload-Metadata": meta,
                   **self._headers()}
        created = await self._http.post(endpoint, headers=headers)
        if created.status_code != 201:
            raise ApiError(f"TUS_{created.status_code}", created.text[:500])
        url = str(httpx.URL(endpoint).join(created.headers["Location"]))
        await self.tus_resume(url, path, chunk_size=chunk_size, checksum=checksum)
        return url

    async def tus_resume(self, url: str, path: Path, *, chunk_size: int = 8 * 1024 * 1024,
                         checksum: bool = True) -> None:
        head = await self._http.head(url, headers={"Tus-Resumable": TUS_VERSION, **self._headers()})
        if head.status_code != 200:
            raise ApiError(f"TUS_{head.status_code}", "upload not found")
        offset, size = int(head.headers["Upload-Offset"]), path.stat().st_size
        with path.open("rb") as fh:
            fh.seek(offset)
            while offset < size:
                chunk = fh.read(chunk_size)
                headers = {"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(offset),
                           "Content-Type": "application/offset+octet-stream", **self._headers()}
                if checksum:
                    digest = base64.b64encode(hashlib.sha1(chunk, usedforsecurity=False).digest()).decode()
                    headers["Upload-Checksum"] = f"sha1 {digest}"
                response = await self._http.patch(url, content=chunk, headers=headers)
                if response.status_code != 204:
                    raise ApiError(f"TUS_{response.status_code}", response.text[:500])
                offset = int(response.headers["Upload-Offset"])

    async def download(self, url: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        async with self._http.stream("GET", url, headers=self._headers()) as response:
            if response.status_code != 200:
                raise ApiError(f"HTTP_{response.status_code}", f"cannot download {dest.name}")
            with tmp.open("wb") as fh:
                async for chunk in response.aiter_bytes(1 << 20):
                    fh.write(chunk)
        tmp.replace(dest)
        return dest

    # --- subscriptions ------------------------------------------------------------------------

    async def subscribe(self, query: str, variables: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Yield each ``next`` payload's data of one subscription (graphql-transport-ws)."""
        import websockets

        ws_url = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/graphql"
        try:
            async for data in self._subscribe(websockets, ws_url, query, variables):
                yield data
        except websockets.ConnectionClosedError as ex:
            code = ex.rcvd.code if ex.rcvd else 1006
            raise ApiError("UNAUTHENTICATED" if code == 4403 else f"WS_CLOSED_{code}",
                           ex.rcvd.reason if ex.rcvd else "connection closed") from ex

    async def _subscribe(self, websockets: Any, ws_url: str, query: str, variables: dict[str, Any]
                         ) -> AsyncIterator[dict[str, Any]]:
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                      max_size=2**22, open_timeout=60) as ws:
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {self.token}"}}))
            ack = json.loads(await ws.recv())
            if ack.get("type") != "connection_ack":
                raise ApiError("WS_REFUSED", str(ack))
            op = str(uuid.uuid4())
            await ws.send(json.dumps({"id": op, "type": "subscribe",
                                      "payload": {"query": query, "variables": variables}}))
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        err = payload["errors"][0]
                        raise ApiError(str((err.get("extensions") or {}).get("code", "GRAPHQL_ERROR")),
                                       str(err.get("message")))
                    yield payload["data"]
                elif kind == "error":
                    raise ApiError("SUBSCRIPTION_ERROR", json.dumps(message.get("payload"))[:500])
                elif kind == "complete":
                    return
