"""``Project.jobs`` through the per-operation DataLoader: every project's page equals the single-project
read (order, hasNextPage, cursors), in one batched read for all projects of a listing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.auth.principal import Principal
from app.db import system_tx
from app.models import Job, JobState, Project, Role
from app.services import jobs_read
from tests.graphql.conftest import Gql

LIST = ("query($n: Int!, $a: String) { projects(first: 10) { nodes { id jobs(first: $n, after: $a) { "
        "nodes { id } pageInfo { hasNextPage endCursor } } } } }")


async def test_batched_pages_equal_single_project_reads(gql: Gql, make_org: Any) -> None:
    org, other = await make_org(), await make_org()
    async with system_tx():
        projects = [await Project.create(tenant_id=org.tenant.id, name=f"p{i}") for i in range(3)]
        for index, project in enumerate(projects):
            for _ in range(index + 1):  # 1, 2 and 3 jobs
                await Job.create(tenant_id=org.tenant.id, project_id=project.id, state=JobState.QUEUED)
    principal = Principal(org.users[Role.VIEWER].id, org.tenant.id, Role.VIEWER)
    body = await gql(LIST, {"n": 2}, token=org.tokens[Role.VIEWER])
    assert not body.get("errors"), body
    listed = {p["id"]: p["jobs"] for p in body["data"]["projects"]["nodes"]}
    assert len(listed) == 4  # three new projects and the seeded one
    for project_id, jobs in listed.items():
        single = await jobs_read.list_jobs(principal, UUID(project_id), first=2, after=None)
        assert [j["id"] for j in jobs["nodes"]] == [str(j.id) for j in single.items]
        assert jobs["pageInfo"]["hasNextPage"] is single.has_next
    # The next page, after the cursor of the three-job project.
    busiest = str(projects[2].id)
    after = listed[busiest]["pageInfo"]["endCursor"]
    body = await gql(LIST, {"n": 2, "a": after}, token=org.tokens[Role.VIEWER])
    page = {p["id"]: p["jobs"] for p in body["data"]["projects"]["nodes"]}[busiest]
    assert len(page["nodes"]) == 1 and page["pageInfo"]["hasNextPage"] is False
    # Another tenant's projects give nothing, even named directly.
    other_principal = Principal(other.users[Role.OWNER].id, other.tenant.id, Role.OWNER)
    pages = await jobs_read.jobs_by_project(other_principal, [p.id for p in projects], first=5, after=None)
    assert all(not p.items for p in pages.values())


async def test_bad_page_size_is_a_validation_error(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    body = await gql(LIST, {"n": 101}, token=org.tokens[Role.VIEWER])
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert body["errors"][0]["extensions"]["field"] == "first"


