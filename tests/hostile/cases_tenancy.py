"""Other tenants' ids in every id argument: the schema-generated isolation matrix run by the attacker's
owner against the victim's objects, the render options' asset ids, the subscriptions (over a websocket)
and the tus resources."""

from __future__ import annotations

import asyncio
import json

import websockets

from app.models import Role
from tests.graphql.test_isolation_matrix import CASES as MATRIX
from tests.hostile.corpus import Case, Ctx, E

OTHER_OWNER = "fixed on another branch (issue 9: asset ids in render options are never validated)"


def _matrix_case(field: str) -> Case:
    document, make_vars, expected = MATRIX[field]

    async def run(ctx: Ctx) -> str:
        query = document.replace("{email}", ctx.a.users[Role.OWNER].email)
        return await ctx.gql(query, make_vars(ctx.b), role=Role.OWNER)  # type: ignore[arg-type]
    return Case(f"tenant-{field}", "tenancy", run, (expected,))


def _render_option(name: str, value: str, xfail: str | None = None) -> Case:
    async def run(ctx: Ctx) -> str:
        asset = str(ctx.b.asset.id)
        option = f"{name}: [\"{asset}\"]" if value == "list" else f"{name}: \"{asset}\""
        extra = ", narration: \"upload\"" if name == "narrationAssetId" else ""
        query = f"mutation($p: ID!) {{ startRender(projectId: $p, options: {{{option}{extra}}}) {{ {E} }} }}"
        return await ctx.gql(query, {"p": str(ctx.a.project.id)}, role=Role.OWNER)
    return Case(f"tenant-render-{name}", "tenancy", run, ("NOT_FOUND", "VALIDATION_FAILED"), xfail=xfail)


def _subscription(field: str, arg: str, attr: str) -> Case:
    async def run(ctx: Ctx) -> str:
        url = ctx.base.replace("http://", "ws://") + "/graphql"
        target = str(getattr(ctx.b, attr).id)
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {ctx.a.tokens[Role.OWNER]}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": f"subscription($x: ID!) {{ {field}({arg}: $x) {{ seq }} }}", "variables": {"x": target}}}))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 25))
                if message.get("id") != "1":
                    continue
                errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
                if not errors:
                    return "LEAKED"
                return str(errors[0].get("extensions", {}).get("code"))
    return Case(f"tenant-subscription-{field}", "tenancy", run, ("NOT_FOUND",))


def _tus(method: str) -> Case:
    async def run(ctx: Ctx) -> str:
        headers = ctx.tus_headers(Role.OWNER, **{"Upload-Offset": "0",
                                                 "Content-Type": "application/offset+octet-stream"})
        answer = await ctx.http.request(method, ctx.b.upload_url, headers=headers,
                                        content=b"x" * 10 if method == "PATCH" else None)
        return f"HTTP_{answer.status_code}"
    return Case(f"tenant-tus-{method.lower()}", "tenancy", run, ("HTTP_404",))


def _tus_create_into_other_project() -> Case:
    from tests.hostile.corpus import http_code, metadata

    async def run(ctx: Ctx) -> str:
        return http_code(await ctx.tus_create(ctx.tus_headers(**{"Upload-Length": "10", "Upload-Metadata": metadata(
            filename="a.mp4", projectId=str(ctx.b.project.id), kind="source_video")})))
    return Case("tenant-tus-create-in-other-project", "tenancy", run, ("NOT_FOUND",))


CASES: list[Case] = [
    *(_matrix_case(field) for field in sorted(MATRIX)),
    _render_option("sourceAssetIds", "list"),
    _render_option("scriptAssetId", "one"),
    _render_option("narrationAssetId", "one"),
    _subscription("jobProgress", "jobId", "job"),
    _subscription("projectEvents", "projectId", "project"),
    *(_tus(method) for method in ("HEAD", "PATCH", "DELETE")),
    _tus_create_into_other_project(),
]
