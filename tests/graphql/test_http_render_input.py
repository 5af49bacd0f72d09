"""startRender and updateAlignment validate every input before the database (typed errors, nothing
created), the assets named in render options are checked at startRender, and an approved alignment
is frozen."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.db import system_tx
from app.models import Asset, AssetKind, AssetStatus, Job, JobState, Project, Role, Tenant, UsageCounter
from tests.graphql.conftest import Gql, payload

START = ("mutation($p: ID!, $o: RenderOptionsInput) { startRender(projectId: $p, options: $o) { __typename "
         "... on JobPayload { job { id } } ... on Error { code field message } } }")
UPDATE = ("mutation($j: ID!, $b: [BeatEditInput!]!) { updateAlignment(jobId: $j, beats: $b) { __typename "
          "... on AlignmentPayload { alignment } ... on Error { code field message } } }")
APPROVE = ("mutation($j: ID!) { approveAlignment(jobId: $j) { __typename ... on JobPayload { job { state } } "
           "... on Error { code } } }")
BASE: dict[str, Any] = {"version": 1, "sources": [{"id": "s0", "path": "movie.mp4", "duration": 60.0}],
                        "beats": [{"index": 0, "text": "first", "target_duration": 5.0, "confidence": 0.8,
                                   "clips": [{"source": "s0", "start": 10.0, "end": 15.0, "score": 0.7}]},
                                  {"index": 1, "text": "second", "target_duration": 5.0, "confidence": 0.8,
                                   "clips": [{"source": "s0", "start": 30.0, "end": 35.0, "score": 0.7}]}]}


@dataclass
class World:
    token: str
    tenant: Tenant
    project: Project
    assets: dict[str, str]


async def _asset(tenant: Tenant, project: Project, kind: AssetKind, status: AssetStatus = AssetStatus.READY) -> str:
    async with system_tx():
        asset = await Asset.create(tenant_id=tenant.id, project_id=project.id, kind=kind, status=status,
                                   filename="f", storage_key=f"inputs/{tenant.id}/{project.id}/{uuid.uuid4()}",
                                   probe={"duration": 30.0})
    return str(asset.id)


@pytest.fixture
async def world(tenant_factory: Any, user_factory: Any) -> World:
    tenant, stranger = await tenant_factory(), await tenant_factory()
    user, token = await user_factory(tenant, Role.EDITOR)
    foreign_user, _ = await user_factory(stranger, Role.EDITOR)
    async with system_tx():
        project = await Project.create(tenant_id=tenant.id, name="Film", created_by_id=user.id)
        sibling = await Project.create(tenant_id=tenant.id, name="Other film", created_by_id=user.id)
        foreign = await Project.create(tenant_id=stranger.id, name="Theirs", created_by_id=foreign_user.id)
    assets = {
        "source": await _asset(tenant, project, AssetKind.SOURCE_VIDEO),
        "pending": await _asset(tenant, project, AssetKind.SOURCE_VIDEO, AssetStatus.PENDING),
        "rejected": await _asset(tenant, project, AssetKind.SOURCE_VIDEO, AssetStatus.REJECTED),
        "script": await _asset(tenant, project, AssetKind.SCRIPT),
        "narration": await _asset(tenant, project, AssetKind.NARRATION_AUDIO),
        "sibling_source": await _asset(tenant, sibling, AssetKind.SOURCE_VIDEO),
        "foreign_source": await _asset(stranger, foreign, AssetKind.SOURCE_VIDEO),
        "foreign_narration": await _asset(stranger, foreign, AssetKind.NARRATION_AUDIO),
    }
    return World(token, tenant, project, assets)


async def _jobs(world: World) -> int:
    async with system_tx():
        return await Job.filter(tenant_id=world.tenant.id).count()


@pytest.mark.parametrize(("options", "code", "field"), [
    ({"title": "Recap\x00of a film"}, "VALIDATION_FAILED", "title"),
    ({"title": "bell\x07"}, "VALIDATION_FAILED", "title"),
    ({"scriptText": "First beat.\x00\n\nSecond."}, "VALIDATION_FAILED", "scriptText"),
    ({"scriptText": "escape \x1b[2J"}, "VALIDATION_FAILED", "scriptText"),
    ({"sourceAssetIds": ["not-a-uuid"]}, "VALIDATION_FAILED", "sourceAssetIds"),
    ({"sourceAssetIds": ["\x00"]}, "VALIDATION_FAILED", "sourceAssetIds"),
    ({"sourceAssetIds": ["{source}", "{source}"]}, "VALIDATION_FAILED", "sourceAssetIds"),
    ({"scriptAssetId": "12345"}, "VALIDATION_FAILED", "scriptAssetId"),
    ({"sourceAssetIds": ["{script}"]}, "WRONG_ASSET_KIND", "sourceAssetIds"),
    ({"sourceAssetIds": ["{source}", "{pending}"]}, "ASSET_NOT_READY", "sourceAssetIds"),
    ({"sourceAssetIds": ["{rejected}"]}, "ASSET_NOT_READY", "sourceAssetIds"),
    ({"sourceAssetIds": ["{sibling_source}"]}, "NOT_FOUND", "sourceAssetIds"),
    ({"sourceAssetIds": ["{foreign_source}"]}, "NOT_FOUND", "sourceAssetIds"),
    ({"sourceAssetIds": [str(uuid.UUID(int=7))]}, "NOT_FOUND", "sourceAssetIds"),
    ({"scriptAssetId": "{source}"}, "WRONG_ASSET_KIND", "scriptAssetId"),
    ({"scriptAssetId": "{sibling_source}"}, "NOT_FOUND", "scriptAssetId"),
    ({"narration": "recorded", "narrationAssetId": "{script}"}, "WRONG_ASSET_KIND", "narrationAssetId"),
    ({"narration": "recorded", "narrationAssetId": "{foreign_narration}"}, "NOT_FOUND", "narrationAssetId"),
])
async def test_start_render_refuses_bad_options(gql: Gql, world: World, options: dict[str, Any], code: str,
                                                field: str) -> None:
    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            return world.assets[value[1:-1]]
        return value

    filled = {k: fill(v) for k, v in options.items()}
    result = payload(await gql(START, {"p": str(world.project.id), "o": filled}, token=world.token), "startRender")
    assert (result["__typename"], result["code"], result["field"]) == (
        "NotFoundError" if code == "NOT_FOUND" else "ValidationError", code, field), result
    assert await _jobs(world) == 0


async def test_start_render_with_valid_named_assets(gql: Gql, world: World) -> None:
    options = {"sourceAssetIds": [world.assets["source"].upper()], "scriptAssetId": world.assets["script"],
               "narration": "recorded", "narrationAssetId": world.assets["narration"], "title": " Ünïcode 🎬 "}
    result = payload(await gql(START, {"p": str(world.project.id), "o": options}, token=world.token), "startRender")
    assert result["__typename"] == "JobPayload", result
    async with system_tx():
        job = await Job.get(id=result["job"]["id"])
    assert job.options["source_asset_ids"] == [world.assets["source"]]  # canonical form
    assert job.options["title"] == "Ünïcode 🎬"
    async with system_tx():  # the minutes are charged once, through the one usage upsert
        counters = await UsageCounter.filter(tenant_id=world.tenant.id)
    assert [(c.processing_seconds, c.storage_bytes) for c in counters] == [(30.0, 0)]


async def _review_job(world: World) -> Job:
    async with system_tx():
        return await Job.create(tenant_id=world.tenant.id, project_id=world.project.id,
                                state=JobState.WAITING_REVIEW, options={"review": True, "alignment_edit": BASE})


@pytest.mark.parametrize("beats", [
    [{"index": 0, "clips": "s0 10-15"}],
    [{"index": 0, "clips": {"source": "s0"}}],
    [{"index": 0, "clips": [1, 2]}],
    [{"index": 0, "clips": [None]}],
    [{"index": 0, "clips": [["s0", 1.0, 2.0]]}],
    [{"index": 0, "clips": [{"source": ["s0"], "start": 1.0, "end": 2.0}]}],
    [{"index": 0, "clips": [{"source": {"id": "s0"}, "start": 1.0, "end": 2.0}]}],
    [{"index": 0, "clips": [{"source": "s0\x00", "start": 1.0, "end": 2.0}]}],
    [{"index": 0, "clips": [{"source": "s0", "start": "1", "end": 2.0}]}],
    [{"index": 0, "clips": [{"source": "s0", "start": True, "end": 2.0}]}],
    [{"index": 0, "clips": [{"source": "s0", "start": 1.0, "end": 2.0, "score": "high"}]}],
    [{"index": 0, "clips": [{"source": "s0", "start": 1.0, "end": 2.0, "score": None}]}],
    [{"index": 0, "clips": [{"source": "s0", "start": 1.0}]}],
    [{"index": 0, "clips": []}, {"index": 0, "clips": []}],
    [{"index": 99, "clips": []}],
])
async def test_malformed_clips_are_validation_errors(gql: Gql, world: World, beats: list[dict[str, Any]]) -> None:
    job = await _review_job(world)
    result = payload(await gql(UPDATE, {"j": str(job.id), "b": beats}, token=world.token), "updateAlignment")
    assert (result["__typename"], result["code"], result["field"]) == ("ValidationError", "VALIDATION_FAILED",
                                                                      "beats"), result
    async with system_tx():
        assert (await Job.get(id=job.id)).options["alignment_edit"] == BASE


async def test_approved_alignment_is_frozen(gql: Gql, world: World) -> None:
    job = await _review_job(world)
    edit = [{"index": 0, "clips": [{"source": "s0", "start": 40.0, "end": 45.0}]}]
    edited = payload(await gql(UPDATE, {"j": str(job.id), "b": edit}, token=world.token), "updateAlignment")
    assert edited["__typename"] == "AlignmentPayload", edited
    approved = payload(await gql(APPROVE, {"j": str(job.id)}, token=world.token), "approveAlignment")
    assert approved == {"__typename": "JobPayload", "job": {"state": "RUNNING"}}
    late = [{"index": 0, "clips": [{"source": "s0", "start": 50.0, "end": 55.0}]}]
    refused = payload(await gql(UPDATE, {"j": str(job.id), "b": late}, token=world.token), "updateAlignment")
    assert (refused["__typename"], refused["code"]) == ("ConflictError", "ALIGNMENT_FROZEN"), refused
    async with system_tx():
        stored = (await Job.get(id=job.id)).options["alignment_edit"]
    assert stored["beats"][0]["clips"] == [{"source": "s0", "start": 40.0, "end": 45.0, "score": 1.0}]



@pytest.mark.parametrize("number", ["1e400", "NaN", "-Infinity"])
async def test_non_finite_times_are_validation_errors(client: httpx.AsyncClient, world: World, number: str) -> None:
    job = await _review_job(world)
    clip = '{"source": "s0", "start": 1.0, "end": ' + number + "}"  # JSON cannot say it; Python's parser can
    variables = json.dumps({"j": str(job.id), "b": [{"index": 0, "clips": ["CLIP"]}]}).replace('"CLIP"', clip)
    raw = '{"query": ' + json.dumps(UPDATE) + ', "variables": ' + variables + "}"
    response = await client.post("/graphql", content=raw.encode(), headers={
        "content-type": "application/json", "authorization": f"Bearer {world.token}"})
    result = payload(response.json(), "updateAlignment")
    assert (result["__typename"], result["field"]) == ("ValidationError", "beats"), result
