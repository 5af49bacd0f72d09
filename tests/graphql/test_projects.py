"""Projects: create/update/delete, keyset pagination with opaque cursors, search, assets, jobs and stages."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app.db import system_tx
from app.models import Asset, AssetKind, Project, Role
from tests.graphql.conftest import Gql, payload, seed_project, top_code

E = "__typename ... on Error { code message field }"
PAGE = """query($first: Int!, $after: String, $search: String) {
  projects(first: $first, after: $after, search: $search) {
    edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def test_create_update_delete(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    create = (f"mutation($i: CreateProjectInput!) {{ createProject(input: $i) {{ {E} "
              f"... on ProjectPayload {{ project {{ id name description assets {{ id }} }} }} }} }}")
    made = payload(await gql(create, {"i": {"name": "  Season 1 Recap ", "description": "line 1\nline 2"}},
                             token=org.tokens[Role.EDITOR]), "createProject")
    project = made["project"]
    assert (project["name"], project["description"], project["assets"]) == ("Season 1 Recap", "line 1\nline 2", [])
    update = (f"mutation($i: UpdateProjectInput!) {{ updateProject(input: $i) {{ {E} "
              f"... on ProjectPayload {{ project {{ name description }} }} }} }}")
    renamed = payload(await gql(update, {"i": {"id": project["id"], "name": "Season 1"}},
                                token=org.tokens[Role.EDITOR]), "updateProject")
    assert renamed["project"] == {"name": "Season 1", "description": "line 1\nline 2"}
    empty = payload(await gql(update, {"i": {"id": project["id"]}}, token=org.tokens[Role.EDITOR]), "updateProject")
    assert empty["code"] == "VALIDATION_FAILED"
    delete = f"mutation($id: ID!) {{ deleteProject(id: $id) {{ {E} ... on DeleteProjectPayload {{ deletedId }} }} }}"
    gone = payload(await gql(delete, {"id": project["id"]}, token=org.tokens[Role.ADMIN]), "deleteProject")
    assert gone["deletedId"] == project["id"]
    again = payload(await gql(delete, {"id": project["id"]}, token=org.tokens[Role.ADMIN]), "deleteProject")
    assert again["code"] == "NOT_FOUND"
    found = payload(await gql(f"query($id: ID!) {{ project(id: $id) {{ {E} }} }}", {"id": "not-a-uuid"},
                              token=org.tokens[Role.VIEWER]), "project")
    assert found["code"] == "NOT_FOUND"


async def test_keyset_pages_cover_everything_once_newest_first(gql: Gql, tenant_factory: Any,
                                                               user_factory: Any) -> None:
    tenant = await tenant_factory()
    _, token = await user_factory(tenant, Role.VIEWER)
    async with system_tx():
        for index in range(45):
            await Project.create(tenant_id=tenant.id, name=f"P{index:02d}" + (" finale" if index % 10 == 0 else ""))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        conn = payload(await gql(PAGE, {"first": 20, "after": after}, token=token), "projects")
        seen += [e["node"]["name"] for e in conn["edges"]]
        pages += 1
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
        assert conn["edges"][-1]["cursor"] == after
    assert pages == 3 and len(seen) == 45 and len(set(seen)) == 45
    assert [s[:3] for s in seen] == [f"P{i:02d}" for i in reversed(range(45))]
    found = payload(await gql(PAGE, {"first": 20, "search": "FINALE"}, token=token), "projects")
    assert [e["node"]["name"] for e in found["edges"]] == [f"P{i:02d} finale" for i in (40, 30, 20, 10, 0)]
    wildcard = payload(await gql(PAGE, {"first": 20, "search": "%"}, token=token), "projects")
    assert wildcard["edges"] == []  # LIKE wildcards are matched literally
    empty = payload(await gql(PAGE, {"first": 0}, token=token), "projects")
    assert empty["edges"] == [] and empty["pageInfo"]["endCursor"] is None


@pytest.mark.parametrize(("variables", "field"), [
    ({"first": 101}, "first"), ({"first": -1}, "first"), ({"first": 5, "after": "garbage!"}, "after"),
    ({"first": 5, "after": "azF8bm90LWEtZGF0ZXx4"}, "after"),
])
async def test_bad_page_arguments_are_validation_errors(gql: Gql, tenant_factory: Any, user_factory: Any,
                                                        variables: dict[str, Any], field: str) -> None:
    tenant = await tenant_factory()
    _, token = await user_factory(tenant, Role.VIEWER)
    body = await gql(PAGE, variables, token=token)
    assert top_code(body) == "VALIDATION_FAILED"
    assert body["errors"][0]["extensions"]["field"] == field


async def test_assets_jobs_and_stages_with_batched_loading(gql: Gql, tenant_factory: Any, user_factory: Any,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    tenant = await tenant_factory()
    owner, token = await user_factory(tenant, Role.OWNER)
    seeded = [await seed_project(tenant, owner, name=f"S{i}") for i in range(4)]
    async with system_tx():
        await Asset.create(tenant_id=tenant.id, project_id=seeded[0][0].id, kind=AssetKind.SCRIPT,
                           filename="script.txt", storage_key="k", size_bytes=10)
    query = """{ projects(first: 10) { edges { node { name assets { kind filename sizeBytes }
        jobs(first: 5) { edges { node { state progress stages { stage state attempt cached errorCode } } } } } } } }"""
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        body = await gql(query, token=token)
    nodes = [e["node"] for e in payload(body, "projects")["edges"]]
    assert [n["name"] for n in nodes] == ["S3", "S2", "S1", "S0"]
    assert nodes[3]["assets"] == [{"kind": "SOURCE_VIDEO", "filename": "movie.mp4", "sizeBytes": 5 * 1024**3},
                                  {"kind": "SCRIPT", "filename": "script.txt", "sizeBytes": 10}]
    stages = nodes[0]["jobs"]["edges"][0]["node"]["stages"]
    assert [(s["stage"], s["cached"]) for s in stages] == [("INGEST", False), ("ANALYSE", True)]  # pipeline order
    asset_queries = [r for r in caplog.records if 'FROM "assets"' in r.getMessage()]
    stage_queries = [r for r in caplog.records if 'FROM "stage_runs"' in r.getMessage()]
    # The ORM logs its SQL at DEBUG. Assets of all projects: one batched query. Stage runs are batched per
    # tick of the event loop (each project's jobs connection resolves on its own), never one query per job.
    assert len(asset_queries) == 1
    assert 1 <= len(stage_queries) <= len(nodes)


async def test_delete_cascades_and_cancels_a_running_job(gql: Gql, make_org: Any) -> None:
    from app.models import Job, JobState, StageRun

    org = await make_org()
    delete = f"mutation($id: ID!) {{ deleteProject(id: $id) {{ {E} }} }}"
    project_id = str(org.project.id)
    async with system_tx():
        await Job.create(tenant_id=org.tenant.id, project_id=org.project.id, state=JobState.RUNNING)
    done = payload(await gql(delete, {"id": project_id}, token=org.tokens[Role.OWNER]), "deleteProject")
    assert done["__typename"] == "DeleteProjectPayload"
    async with system_tx():
        assert not await Asset.filter(project_id=org.project.id).exists()
        assert not await Job.filter(project_id=org.project.id).exists()
        assert not await StageRun.filter(tenant_id=org.tenant.id).exists()
