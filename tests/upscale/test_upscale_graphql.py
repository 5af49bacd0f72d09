"""startRender(options: {upscale: {...}}) through GraphQL: typed refusals, and accepted with a live GPU worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.db import system_tx
from app.gpu.heartbeat import PREFIX, record_heartbeat
from app.models import Job, Role
from app.services import render
from tests.media.framegen import make_indexed_clip

START = ("mutation($p: ID!, $o: RenderOptionsInput) { startRender(projectId: $p, options: $o) { __typename "
         "... on JobPayload { job { id } } ... on Error { code field message } } }")


async def test_start_render_upscale_options(gql: Any, redis_client: Any, principal_factory: Any,
                                            project_with_assets: Any, tmp_path: Path) -> None:
    async for key in redis_client.scan_iter(match=f"{PREFIX}*"):
        await redis_client.delete(key)
    principal, token = await principal_factory(Role.EDITOR)
    project = await project_with_assets(principal, [make_indexed_clip(tmp_path / "m.mp4", 12, 12, (48, 28), 6)])

    async def start(upscale: Any) -> dict[str, Any]:
        body = await gql(START, {"p": str(project.id), "o": {"scriptText": "Hi.", "upscale": upscale}}, token=token)
        result: dict[str, Any] = body["data"]["startRender"]
        return result

    assert (await start({}))["code"] == "UPSCALE_UNAVAILABLE"
    bad = await start({"model": "waifu2x"})
    assert (bad["__typename"], bad["code"], bad["field"]) == ("ValidationError", "VALIDATION_FAILED", "upscale.model")
    assert (await start({"tile": 7}))["field"] == "upscale.tile"
    await record_heartbeat(redis_client, "test-gpu", ttl_s=30)
    ok = await start({"model": "RealESRGAN_x4plus", "target": "NATIVE", "tile": 256})
    assert ok["__typename"] == "JobPayload", ok
    async with system_tx():
        job = await Job.get(id=ok["job"]["id"])
    assert job.options["upscale"] == {"model": "RealESRGAN_x4plus", "target": "NATIVE", "tile": 256,
                                      "chunk_seconds": 10.0}
    plain = await start(None)
    assert plain["__typename"] == "JobPayload", plain
    for job_id in (ok["job"]["id"], plain["job"]["id"]):  # no render is left for the pipeline tests' workers
        await render.cancel_job(principal, job_id)
