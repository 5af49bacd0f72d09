"""Websockets on /graphql: connections per IP capped at the handshake (HTTP 429), live subscriptions per
user capped across connections (RATE_LIMITED), and the request size limit applies to every message
(a 10 MB ``subscribe`` is closed with 1009 before it is parsed; the server stays up)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets

from app.config import Settings
from app.db import system_tx
from app.models import Job, JobState, Role
from tests.runners.conftest import serve_on_loopback

JOB_PROGRESS = "subscription($j: ID!) { jobProgress(jobId: $j) { jobId seq state } }"


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    from app.main import create_app

    async with serve_on_loopback(lambda url: create_app(settings), ws="websockets-sansio", lifespan="off") as url:
        yield url.replace("http://", "ws://") + "/graphql"


@contextlib.asynccontextmanager
async def connected(url: str, token: str) -> AsyncIterator[Any]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                  max_size=2**24, open_timeout=30) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "connection_ack"
        yield ws


async def first_message(ws: Any, op: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message.get("id") == op:
            return message


async def running_job(org: Any) -> Job:
    async with system_tx():
        return await Job.create(tenant_id=org.tenant.id, project_id=org.project.id, state=JobState.RUNNING)


async def test_websocket_connections_per_ip_are_capped(limited_settings: Callable[..., Settings],
                                                       make_org: Any, redis_client: Any) -> None:
    org = await make_org()
    token = org.tokens[Role.VIEWER]
    url_of = serving(limited_settings(max_ws_connections_per_ip=2))
    async with url_of as url, connected(url, token), connected(url, token) as second:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connected(url, token):
                pass
        assert refused.value.response.status_code == 429
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        await second.close()
        for _ in range(200):  # the slot frees once the server has seen the close
            try:
                async with connected(url, token):
                    break
            except websockets.InvalidStatus:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("a closed connection's slot was never freed")


async def test_subscriptions_per_user_are_capped_across_connections(
        limited_settings: Callable[..., Settings], make_org: Any, redis_client: Any) -> None:
    org = await make_org()
    job = await running_job(org)
    token = org.tokens[Role.VIEWER]
    subscribe = {"type": "subscribe", "payload": {"query": JOB_PROGRESS, "variables": {"j": str(job.id)}}}
    url_of = serving(limited_settings(max_subscriptions_per_user=1))
    async with url_of as url, connected(url, token) as one, connected(url, token) as two:
        await one.send(json.dumps({"id": "a", **subscribe}))
        assert (await first_message(one, "a"))["type"] == "next"  # the snapshot: the slot is held
        await two.send(json.dumps({"id": "b", **subscribe}))
        refused = await first_message(two, "b")
        errors = refused["payload"]["errors"] if refused["type"] == "next" else refused["payload"]
        assert errors[0]["extensions"]["code"] == "RATE_LIMITED", refused
        assert errors[0]["extensions"]["retryAfter"] >= 1
        # Another user of the same tenant has slots of their own.
        async with connected(url, org.tokens[Role.EDITOR]) as three:
            await three.send(json.dumps({"id": "c", **subscribe}))
            assert (await first_message(three, "c"))["type"] == "next"
        await one.send(json.dumps({"id": "a", "type": "complete"}))
        for attempt in range(200):  # the slot frees when the subscription ends
            await two.send(json.dumps({"id": f"b{attempt}", **subscribe}))
            answer = await first_message(two, f"b{attempt}")
            if answer["type"] == "next" and not answer["payload"].get("errors"):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("an ended subscription's slot was never freed")


async def test_a_10_mb_subscribe_message_is_refused_unparsed(limited_settings: Callable[..., Settings],
                                                              make_org: Any, redis_client: Any) -> None:
    org = await make_org()
    token = org.tokens[Role.VIEWER]
    settings = limited_settings()
    huge = json.dumps({"id": "x", "type": "subscribe",
                       "payload": {"query": JOB_PROGRESS, "variables": {"j": "a" * (10 * 1024 * 1024)}}})
    async with serving(settings) as url:
        async with connected(url, token) as ws:
            await ws.send(huge)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # The server stays up and answers.
        async with httpx.AsyncClient(base_url=url.replace("ws://", "http://").removesuffix("/graphql")) as http:
            answer = await http.post("/graphql", json={"query": "{ me { tenantId } }"},
                                     headers={"Authorization": f"Bearer {token}"})
            assert answer.json()["data"]["me"]["tenantId"] == str(org.tenant.id)
