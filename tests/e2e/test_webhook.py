"""The job-finished webhook: a real worker posts a signed body to a real local HTTP receiver,
and ``deliver_webhook`` retries transient answers with backoff but not a client error.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import Settings
from app.db import system_tx
from app.models import Job, JobState, Role, Tenant
from app.services import render
from runners.notify import deliver_webhook
from tests.media.gen import make_clip


@dataclass
class Receiver:
    """A local HTTP endpoint that records every POST and answers from a script of status codes."""

    url: str
    statuses: list[int] = field(default_factory=list)
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        self.posts.append((dict(request.headers), await request.body()))
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(status_code=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    from tests.runners.conftest import serve_on_loopback

    rec = Receiver("")
    app = Starlette(routes=[Route("/hook", rec.handle, methods=["POST"])])
    async with serve_on_loopback(lambda url: app, lifespan="off", ws="none") as url:
        rec.url = f"{url}/hook"
        yield rec


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.slow
async def test_a_finished_job_posts_one_signed_webhook(
        settings: Settings, receiver: Receiver, principal_factory: Any, project_with_assets: Any,
        run_worker: Any, tmp_path: Path) -> None:
    principal, _ = await principal_factory(Role.EDITOR)
    secret = "whsec-" + hashlib.sha256(tmp_path.name.encode()).hexdigest()[:24]
    async with system_tx():
        await Tenant.filter(id=principal.tenant_id).update(webhook_url=receiver.url, webhook_secret=secret)
    # A short generated source and no script: ingest succeeds, the script stage fails with NO_SCRIPT,
    # and the job still ends with a job.finished notification.
    clip = make_clip(tmp_path / "short.mp4", [((200, 40, 40), 24), ((40, 40, 200), 24)], audio=True)
    project = await project_with_assets(principal, [clip])
    job = await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    await run_worker(limit_s=150)
    async with system_tx():
        done = await Job.get(id=job.id)
    assert done.state is JobState.FAILED and done.error_code == "NO_SCRIPT", (done.state, done.error_code)

    await asyncio.wait_for(receiver.arrived.wait(), 30)
    await asyncio.sleep(1.5)  # a duplicate delivery would arrive by now
    assert len(receiver.posts) == 1, [json.loads(body) for _, body in receiver.posts]
    headers, body = receiver.posts[0]
    assert headers["x-recap-signature"] == expected_signature(secret, body)
    assert headers["content-type"] == "application/json"
    assert headers["x-recap-event"] == "job.finished"
    payload = json.loads(body)
    assert payload["event"] == "job.finished"
    assert payload["job_id"] == str(job.id)
    assert payload["project_id"] == str(project.id)
    assert payload["state"] == "failed" and payload["error_code"] == "NO_SCRIPT"
    # the signature binds the body: one changed byte no longer matches
    assert expected_signature(secret, body.replace(b"failed", b"succeeded")) != headers["x-recap-signature"]


@pytest.mark.parametrize(("statuses", "delivered", "attempts"), [
    ([503, 503, 200], True, 3),       # transient errors are retried until one succeeds
    ([429, 204], True, 2),            # rate limited is transient too
    ([400], False, 1),                # a client error is final
    ([404, 200], False, 1),
    ([500, 502, 503, 504], False, 4),  # the first try and three retries, then give up
])
async def test_deliver_webhook_retries_only_transient_answers(
        receiver: Receiver, statuses: list[int], delivered: bool, attempts: int) -> None:
    receiver.statuses = list(statuses)
    payload = {"event": "job.finished", "job_id": "j-1", "state": "succeeded"}
    loop = asyncio.get_running_loop()
    started = loop.time()
    ok = await deliver_webhook(receiver.url, "s3cret", payload, delays=(0.05, 0.1, 0.2))
    elapsed = loop.time() - started
    assert ok is delivered
    assert len(receiver.posts) == attempts
    bodies = {body for _, body in receiver.posts}
    assert len(bodies) == 1  # every retry sends the same signed body
    headers, body = receiver.posts[0]
    assert json.loads(body) == payload
    assert headers["x-recap-signature"] == expected_signature("s3cret", body)
    assert elapsed >= sum((0.05, 0.1, 0.2)[:attempts - 1]) - 0.01  # the backoff delays were honoured


async def test_deliver_webhook_gives_up_on_an_unreachable_receiver() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    assert await deliver_webhook(f"http://127.0.0.1:{port}/hook", "k", {"event": "job.finished"},
                                 delays=(0.01, 0.01)) is False


@pytest.mark.slow
async def test_a_stopping_worker_finishes_its_webhook_retries(
        settings: Settings, receiver: Receiver, principal_factory: Any, project_with_assets: Any,
        spawn_worker: Any, tmp_path: Path) -> None:
    import signal

    principal, _ = await principal_factory(Role.EDITOR)
    async with system_tx():
        await Tenant.filter(id=principal.tenant_id).update(webhook_url=receiver.url, webhook_secret="k")
    receiver.statuses = [503, 503]  # delivered on the third attempt, 0.5 s + 2 s later
    clip = make_clip(tmp_path / "short.mp4", [((200, 40, 40), 24)], audio=True)
    project = await project_with_assets(principal, [clip])
    await render.start_render(principal, project.id, render.RenderOptions(profile="source"), settings)
    worker = spawn_worker()
    await asyncio.wait_for(receiver.arrived.wait(), 120)
    worker.send_signal(signal.SIGTERM)  # a graceful stop, in the middle of the backoff
    for _ in range(300):
        if worker.poll() is not None:
            break
        await asyncio.sleep(0.1)
    assert worker.poll() is not None, "the worker did not stop on SIGTERM"
    assert len(receiver.posts) == 3, f"{len(receiver.posts)} attempt(s) reached the receiver"
