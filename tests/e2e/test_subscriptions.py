"""Live progress across API processes: two API instances (this process and a ``recap serve``
subprocess, each with its own Redis pub/sub hub), one ARQ worker, subscribers on both.

Every subscriber gets a snapshot first, then every event after it, with no gap in ``seq``;
another tenant's token gets NOT_FOUND and a connection without a token is refused.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from app.config import Settings
from app.models import Role
from app.sdk import ApiError, RecapClient
from tests.e2e.conftest import check_gapless, follow

PROJECT_EVENTS = ("subscription($p:ID!){projectEvents(projectId:$p){jobId projectId seq kind stage state progress "
                  "message}}")


@pytest.mark.slow
async def test_two_api_processes_one_worker_every_subscriber_sees_every_event(
        settings: Settings, sample_film: Any, principal_factory: Any, project_with_assets: Any,
        api_server: Any, serve_process: Any, run_worker: Any) -> None:
    principal, token = await principal_factory(Role.EDITOR)
    _, stranger_token = await principal_factory(Role.OWNER)
    project = await project_with_assets(principal, [sample_film.movie], sample_film.script)
    async with api_server(settings) as url_a, serve_process() as url_b:
        api_a, api_b = RecapClient(url_a, token=token), RecapClient(url_b, token=token)
        strangers = [RecapClient(server, token=stranger_token) for server in (url_a, url_b)]
        try:
            job = await api_a.start_render(str(project.id), {"profile": "source"})
            job_id = job["id"]

            # Another tenant sees nothing, on either process; the job's existence does not leak.
            for stranger in strangers:
                with pytest.raises(ApiError) as refused:
                    await anext(aiter(stranger.job_progress(job_id)))
                assert refused.value.code == "NOT_FOUND", refused.value

            followers = [asyncio.create_task(follow(api, job_id, 280)) for api in (api_a, api_b)]
            project_seen: list[dict[str, Any]] = []

            async def project_feed() -> None:
                async for data in api_a.subscribe(PROJECT_EVENTS, {"p": str(project.id)}):
                    event = data["projectEvents"]
                    project_seen.append(event)
                    if event["jobId"] == job_id and event["kind"] == "job" and event["state"] == "succeeded":
                        return
            feed = asyncio.create_task(project_feed())
            await asyncio.sleep(1.0)  # both subscribers hold their snapshot before the work starts
            await run_worker(limit_s=240)
            streams = await asyncio.wait_for(asyncio.gather(*followers), 60)
            await asyncio.wait_for(feed, 30)
        finally:
            for api in (api_a, api_b, *strangers):
                await api.close()

    counts = [check_gapless(events) for events in streams]
    print(f"\nlive events per subscriber (events, arrivals before a lower seq): {counts}")
    assert all(n > 10 for n, _ in counts)
    # Both processes delivered the same events after the later of the two snapshots.
    floor = max(s[0]["seq"] for s in streams)
    a, b = ({e["seq"]: (e["kind"], e["stage"], e["state"]) for e in s[1:] if e["seq"] > floor} for s in streams)
    assert a == b
    mine = [e for e in project_seen if e["jobId"] == job_id]
    assert {e["stage"] for e in mine} >= {"ingest", "analyse", "transcribe", "align", "assemble", "deliver"}
    assert all(e["projectId"] == str(project.id) for e in project_seen)


async def test_a_subscription_without_a_token_is_refused(settings: Settings, api_server: Any,
                                                         principal_factory: Any, project_with_assets: Any) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [])
    async with api_server(settings) as url:
        # Through the SDK: the server closes the socket with 4403 right after connection_init.
        async with RecapClient(url) as anonymous:
            with pytest.raises(ApiError) as refused:
                await anext(aiter(anonymous.subscribe(PROJECT_EVENTS, {"p": str(project.id)})))
        assert refused.value.code == "UNAUTHENTICATED"
        assert isinstance(refused.value.__cause__, websockets.ConnectionClosed)
        assert refused.value.__cause__.rcvd is not None and refused.value.__cause__.rcvd.code == 4403

        # A bare graphql-transport-ws client whose connection_init has no payload, and one with a bad token.
        for init in ({"type": "connection_init"},
                     {"type": "connection_init", "payload": {"authorization": "Bearer not-a-jwt"}}):
            async with websockets.connect(url.replace("http", "ws", 1) + "/graphql",
                                          subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps(init))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, init
