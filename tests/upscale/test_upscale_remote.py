"""Remote GPU workers over HTTP: tokens (expired, foreign, out of scope refused), claims, the round trip."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.errors import ValidationError
from app.gpu import board
from app.gpu.heartbeat import PREFIX, gpu_worker_alive, record_heartbeat
from app.gpu.tokens import mint_worker_token
from app.models import Role
from app.services import render
from app.storage import get_storage
from app.storage.keys import upscale_input_key, upscale_output_key
from colab.chunks import sha256_file, split_keyframes
from colab.remote import RemoteError, RemoteWorker
from tests.media.framegen import make_indexed_clip
from tests.runners.conftest import serve_on_loopback
from tests.upscale.clips import indices


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_expired_foreign_and_non_worker_tokens_are_refused(client: httpx.AsyncClient, settings: Settings,
                                                                  user_factory: Any, tenant_factory: Any) -> None:
    expired = mint_worker_token(settings, "w1", ttl_s=-5)
    other = settings.model_copy(update={"signing_secret": "another-deployment-secret-" + "x" * 20})
    foreign = mint_worker_token(other, "w1")
    _user, access = await user_factory(await tenant_factory(), Role.OWNER)
    good = mint_worker_token(settings, "w1")
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for token, code in ((expired, "TOKEN_EXPIRED"), (foreign, "UNAUTHENTICATED"), (access, "UNAUTHENTICATED"),
                        (tampered, "UNAUTHENTICATED")):
        resp = await client.post("/gpu/v1/claim", headers=_bearer(token))
        assert resp.status_code == 401 and resp.json()["error"]["code"] == code, token
    assert (await client.post("/gpu/v1/claim")).status_code == 401
    assert (await client.post("/gpu/v1/heartbeat", headers=_bearer(expired), json={})).status_code == 401
    # and a good token gets "no work" here
    assert (await client.post("/gpu/v1/claim", headers=_bearer(good))).status_code in (200, 204)


async def test_a_claim_is_exclusive_and_only_its_holder_uploads(client: httpx.AsyncClient, settings: Settings,
                                                               redis_client: Any) -> None:
    job = str(uuid.uuid4())
    await board.publish(redis_client, job, {"model": "realesr-animevideov3", "video": {}},
                        [{"index": 0, "name": "chunk_0000.nut", "offset": 0, "time_base": "1/25", "frames": 1,
                          "start": 0.0, "sha256": "0" * 64}])
    try:
        a, b = mint_worker_token(settings, "a"), mint_worker_token(settings, "b")
        got = (await client.post("/gpu/v1/claim", headers=_bearer(a))).json()
        assert got["job_id"] == job and got["chunk"]["index"] == 0
        assert (await client.post("/gpu/v1/claim", headers=_bearer(b))).status_code == 204
        put = await client.put(got["segment_url"], headers={**_bearer(b), "X-Content-SHA256": "0" * 64}, content=b"x")
        assert put.status_code == 409
        assert (await client.get(got["input_url"], headers=_bearer(b))).status_code == 409
        bad = await client.put(got["segment_url"], headers={**_bearer(a), "X-Content-SHA256": "0" * 64}, content=b"x")
        assert bad.status_code == 422  # checksum mismatch: nothing stored
        beat = await client.post("/gpu/v1/heartbeat", headers=_bearer(a), json={"job_id": job, "index": 0})
        assert beat.json() == {"alive": True, "held": True}
        await client.post("/gpu/v1/report", headers=_bearer(a), json={"job_id": job, "index": 0, "error": "x"})
        assert (await client.post("/gpu/v1/claim", headers=_bearer(b))).json()["chunk"]["index"] == 0
    finally:
        await board.withdraw(redis_client, job)


async def test_remote_worker_round_trip_over_http(settings: Settings, redis_client: Any, tmp_path: Path) -> None:
    from app.main import create_app

    job = uuid.uuid4()
    clip = make_indexed_clip(tmp_path / "in.mp4", frames=12, fps=12, size=(48, 28), gop=6, audio=False)
    chunks = split_keyframes(clip, tmp_path / "inputs", chunk_seconds=0.5)
    storage = get_storage(settings)
    for c in chunks:
        await storage.put_file(upscale_input_key(job, c.name), tmp_path / "inputs" / c.name)
    await board.publish(redis_client, str(job), {"model": "realesr-animevideov3",
                                                 "video": {"target": "native", "preset": "veryfast"}},
                        [c.to_json() for c in chunks])
    try:
        app = lambda url: create_app(settings.model_copy(update={"public_url": url}))  # noqa: E731
        async with serve_on_loopback(app, ws="websockets-sansio") as url:
            with pytest.raises(ValueError):
                RemoteWorker(url.replace("127.0.0.1", "example.com"), "t", tmp_path)  # plain HTTP off-box
            denied = RemoteWorker(url, mint_worker_token(settings, "colab", ttl_s=-1), tmp_path / "w0")
            with pytest.raises(RemoteError) as refused:
                await asyncio.to_thread(denied.claim)
            assert refused.value.status == 401
            worker = RemoteWorker(url, mint_worker_token(settings, "colab"), tmp_path / "w", device="cpu")
            done = await asyncio.to_thread(worker.run, stop_after_idle_s=0, poll_s=0.1)
            assert done == len(chunks) == 2
            assert await gpu_worker_alive(redis_client)
        records = await board.done(redis_client, str(job))
        assert sorted(records) == [0, 1]
        for c in chunks:
            seg = storage.local_path(upscale_output_key(job, c.segment))
            assert seg is not None and sha256_file(seg) == records[c.index]["sha256"]
            assert records[c.index]["worker"] == "colab"
            assert len(indices(seg)) == c.frames
    finally:
        await board.withdraw(redis_client, str(job))


async def test_start_render_with_upscale_needs_a_live_gpu_worker(settings: Settings, redis_client: Any,
                                                                 principal_factory: Any, project_with_assets: Any,
                                                                 tmp_path: Path) -> None:
    async for key in redis_client.scan_iter(match=f"{PREFIX}*"):
        await redis_client.delete(key)
    principal, _ = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [make_indexed_clip(tmp_path / "m.mp4", 12, 12, (48, 28), 6)])
    with pytest.raises(ValidationError) as refused:
        await render.start_render(principal, project.id, render.RenderOptions(upscale=True, script_text="Hi."),
                                  settings)
    assert refused.value.code == "UPSCALE_UNAVAILABLE"
    await record_heartbeat(redis_client, "test-gpu", ttl_s=30)
    job = await render.start_render(principal, project.id, render.RenderOptions(upscale=True, script_text="Hi."),
                                    settings)
    await render.cancel_job(principal, job.id)


def test_gpu_token_command_prints_a_verifiable_token(settings: Settings) -> None:
    from typer.testing import CliRunner

    from app.cli import app as cli
    from app.gpu.tokens import verify_worker_token

    result = CliRunner().invoke(cli, ["gpu-token", "--worker", "colab-1", "--hours", "1"])
    assert result.exit_code == 0, result.output
    assert verify_worker_token(settings, result.output.strip()).worker_id == "colab-1"
    assert CliRunner().invoke(cli, ["gpu-token", "--worker", "bad name!"]).exit_code == 2
