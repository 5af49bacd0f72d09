"""A small local Drive v3 server: the subset GoogleDriveStorage uses, with injected faults.

Covered calls (docs/storage-and-uploads.md lists them too):
  POST /token                                          OAuth2 token endpoint (JWT-bearer and refresh_token grants)
  GET  /drive/v3/files/generateIds                     pre-generated ids
  POST /upload/drive/v3/files?uploadType=resumable     open a session (Location header); 409 for a used id
  PUT  <session uri>                                   chunk (Content-Range a-b/N) or status query (bytes */N)
  GET  /drive/v3/files?q=...                           list: 'F' in parents, trashed = false, name =,
                                                       appProperties has { key='k' and value='v' }
  GET  /drive/v3/files/{id}[?alt=media]                metadata, or content with Range (206/416)
  PATCH /drive/v3/files/{id}                           rename, appProperties (null removes)
  DELETE /drive/v3/files/{id}                          delete

Faults (``server.faults``, each fires once, in order, when its condition holds):
  Fault("error", target, status)          answer ``status`` instead of handling the request
  Fault("drop", "chunk")                  store part of the chunk (256 KiB units), then cut the connection
  Fault("expire", "chunk")                forget the session (every later call on it: 404)
``after_bytes`` delays a chunk fault until the session holds that many bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

UNIT = 256 * 1024


@dataclass
class Fault:
    kind: str  # "error" | "drop" | "expire"
    target: str = "chunk"  # "chunk" | "status" | "initiate" | "download" | "list" | "token"
    status: int = 503
    after_bytes: int = 0


@dataclass
class DriveFile:
    id: str
    name: str
    parents: list[str]
    data: bytes
    app_properties: dict[str, str] = field(default_factory=dict)
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    def meta(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size": str(len(self.data)),
                "modifiedTime": self.modified.isoformat().replace("+00:00", "Z"),
                "md5Checksum": hashlib.md5(self.data).hexdigest()}


@dataclass
class Session:
    meta: dict[str, Any]
    size: int
    data: bytearray = field(default_factory=bytearray)


class FakeDrive:
    """Run with ``await server.start()``; ``server.base`` is the API base URL."""

    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.sessions: dict[str, Session] = {}
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        self.violations: list[str] = []
        self.tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/token", self.token)
        app.router.add_get("/drive/v3/files/generateIds", self.generate_ids)
        app.router.add_post("/upload/drive/v3/files", self.initiate)
        app.router.add_put("/upload/drive/v3/files", self.put)
        app.router.add_get("/drive/v3/files", self.list_files)
        app.router.add_get("/drive/v3/files/{id}", self.get_file)
        app.router.add_patch("/drive/v3/files/{id}", self.patch_file)
        app.router.add_delete("/drive/v3/files/{id}", self.delete_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _fault(self, target: str, held: int = 0) -> Fault | None:
        for fault in self.faults:
            if fault.target == target and held >= fault.after_bytes:
                self.faults.remove(fault)
                return fault
        return None

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self.tokens

    async def token(self, request: web.Request) -> web.Response:
        self.calls.append("token")
        form = await request.post()
        if form.get("grant_type") not in ("urn:ietf:params:oauth:grant-type:jwt-bearer", "refresh_token"):
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = f"tok-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 3600, "token_type": "Bearer",
                                  "scope": "https://www.googleapis.com/auth/drive"})

    async def generate_ids(self, request: web.Request) -> web.Response:
        self.calls.append("generateIds")
        if not self._authorised(request):
            return web.json_response({}, status=401)
        count = int(request.query.get("count", "10"))
        ids = [f"gen{next(self._ids):06d}{uuid.uuid4().hex[:8]}" for _ in range(count)]
        return web.json_response({"kind": "drive#generatedIds", "space": "drive", "ids": ids})

    async def initiate(self, request: web.Request) -> web.Response:
        self.calls.append("initiate")
        if not self._authorised(request) or request.query.get("uploadType") != "resumable":
            return web.json_response({}, status=401 if not self._authorised(request) else 400)
        fault = self._fault("initiate")
        if fault is not None:
            return web.json_response({"error": "injected"}, status=fault.status)
        meta = await request.json()
        if meta.get("id") in self.files:
            return web.json_response({"error": {"code": 409, "message": "id exists"}}, status=409)
        upload_id = uuid.uuid4().hex
        self.sessions[upload_id] = Session(meta, int(request.headers["X-Upload-Content-Length"]))
        location = f"{self.base}/upload/drive/v3/files?uploadType=resumable&upload_id={upload_id}"
        return web.Response(status=200, headers={"Location": location})

    def _progress(self, session: Session) -> web.Response:
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return web.Response(status=308, headers=headers)

    def _finish(self, upload_id: str, session: Session) -> web.Response:
        meta = session.meta
        drive_file = DriveFile(meta.get("id") or uuid.uuid4().hex, meta["name"], meta.get("parents", []),
                               bytes(session.data), dict(meta.get("appProperties") or {}))
        self.files[drive_file.id] = drive_file
        del self.sessions[upload_id]
        return web.json_response(drive_file.meta(), status=200)

    async def put(self, request: web.Request) -> web.StreamResponse:
        upload_id = request.query.get("upload_id", "")
        session = self.sessions.get(upload_id)
        content_range = request.headers.get("Content-Range", "")
        status_query = content_range.startswith("bytes */")
        self.calls.append("status" if status_query else "chunk")
        if session is None:
            return web.json_response({"error": "session not found"}, status=404)
        if status_query:
            fault = self._fault("status", len(session.data))
            if fault is not None:
                return web.json_response({"error": "injected"}, status=fault.status)
            body = await request.read()
            if body or session.size > len(session.data):
                return self._progress(session)
            return self._finish(upload_id, session)
        return await self._chunk(request, upload_id, session, content_range)

    async def _chunk(self, request: web.Request, upload_id: str, session: Session,
                     content_range: str) -> web.StreamResponse:
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if match is None:
            self.violations.append(f"bad Content-Range {content_range!r}")
            return web.json_response({"error": "bad range"}, status=400)
        start, end, total = (int(g) for g in match.groups())
        fault = self._fault("chunk", len(session.data))
        if fault is not None and fault.kind == "expire":
            del self.sessions[upload_id]
            return web.json_response({"error": "session expired"}, status=404)
        if fault is not None and fault.kind == "drop":
            part = await request.content.read((end - start + 1) // 2)
            if start == len(session.data):
                session.data.extend(part[: len(part) // UNIT * UNIT])
            assert request.transport is not None
            request.transport.abort()  # the client sees a broken connection; this answer goes nowhere
            return web.Response(status=500)
        body = await request.read()
        if fault is not None:
            return web.json_response({"error": "injected"}, status=fault.status)
        if start != len(session.data) or total != session.size or len(body) != end - start + 1:
            self.violations.append(f"chunk {content_range} at offset {len(session.data)}")
            return web.json_response({"error": "offset mismatch"}, status=400)
        if end + 1 < total and len(body) % UNIT:
            self.violations.append(f"chunk of {len(body)} bytes is not a multiple of 256 KiB")
            return web.json_response({"error": "chunk size"}, status=400)
        session.data.extend(body)
        return self._finish(upload_id, session) if len(session.data) == total else self._progress(session)

    def _match(self, drive_file: DriveFile, query: str) -> bool:
        props = re.findall(r"appProperties has \{ key='([^']*)' and value='([^']*)' \}", query)
        if any(drive_file.app_properties.get(k) != v for k, v in props):
            return False
        query = re.sub(r"appProperties has \{[^}]*\}", "trashed = false", query)
        for clause in (c.strip() for c in query.split(" and ")):
            if m := re.fullmatch(r"'([^']*)' in parents", clause):
                ok = m.group(1) in drive_file.parents
            elif m := re.fullmatch(r"name = '([^']*)'", clause):
                ok = drive_file.name == m.group(1)
            elif clause == "trashed = false":
                ok = True
            else:
                self.violations.append(f"unsupported query clause {clause!r}")
                ok = False
            if not ok:
                return False
        return True

    async def list_files(self, request: web.Request) -> web.Response:
        self.calls.append("list")
        if not self._authorised(request):
            return web.json_response({}, status=401)
        fault = self._fault("list")
        if fault is not None:
            return web.json_response({"error": "injected"}, status=fault.status)
        found = [f for f in self.files.values() if self._match(f, request.query.get("q", ""))]
        found.sort(key=lambda f: f.modified, reverse=True)
        return web.json_response({"files": [f.meta() for f in found]})

    async def get_file(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({}, status=401)
        drive_file = self.files.get(request.match_info["id"])
        if request.query.get("alt") != "media":
            self.calls.append("get")
            return web.json_response(drive_file.meta()) if drive_file else web.json_response({}, status=404)
        self.calls.append("download")
        fault = self._fault("download")
        if fault is not None:
            return web.json_response({"error": "injected"}, status=fault.status)
        if drive_file is None:
            return web.json_response({}, status=404)
        return self._ranged(drive_file.data, request.headers.get("Range"))

    def _ranged(self, data: bytes, header: str | None) -> web.Response:
        if not header:
            return web.Response(body=data, content_type="application/octet-stream")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", header)
        if m is None or int(m.group(1)) >= len(data):
            return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
        return web.Response(status=206, body=data[start:end + 1], content_type="application/octet-stream",
                            headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"})

    async def patch_file(self, request: web.Request) -> web.Response:
        self.calls.append("patch")
        drive_file = self.files.get(request.match_info["id"])
        if not self._authorised(request) or drive_file is None:
            return web.json_response({}, status=404)
        body = await request.json()
        drive_file.name = body.get("name", drive_file.name)
        for key, value in (body.get("appProperties") or {}).items():
            if value is None:
                drive_file.app_properties.pop(key, None)
            else:
                drive_file.app_properties[key] = value
        drive_file.modified = datetime.now(UTC)
        return web.json_response(drive_file.meta())

    async def delete_file(self, request: web.Request) -> web.Response:
        self.calls.append("delete")
        if not self._authorised(request):
            return web.json_response({}, status=401)
        if self.files.pop(request.match_info["id"], None) is None:
            return web.json_response({}, status=404)
        return web.Response(status=204)
