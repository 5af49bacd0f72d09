"""Hostile strings (NUL, controls, bidi overrides, malformed ids) in every string and id argument get a typed
or request-level error, never the masked "Unexpected error." of an input that reached the database."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import Role
from tests.graphql.conftest import Gql

E = "__typename ... on Error { code field }"
HOSTILE = ["\x00", "a\x00b", "\x1b[2J", "\u202etxt.exe", "\u0000" * 50, "'; DROP TABLE users; --", "../../etc/passwd"]

CASES: dict[str, tuple[str, Any]] = {
    "projects.search": ("query($s: String) { projects(search: $s) { edges { node { id } } } }", "s"),
    "projects.after": ("query($s: String) { projects(after: $s) { edges { node { id } } } }", "s"),
    "project.id": ("query($s: ID!) { project(id: $s) { __typename } }", "s"),
    "job.id": ("query($s: ID!) { job(id: $s) { __typename } }", "s"),
    "jobs.projectId": ("query($s: ID!) { jobs(projectId: $s) { __typename } }", "s"),
    "alignment.jobId": ("query($s: ID!) { alignment(jobId: $s) { __typename } }", "s"),
    "login.email": (f'mutation($s: String!) {{ login(email: $s, password: "x") {{ {E} }} }}', "s"),
    "login.password": (f'mutation($s: String!) {{ login(email: "a@example.com", password: $s) {{ {E} }} }}', "s"),
    "login.tenantId": (f'mutation($s: ID) {{ login(email: "a@example.com", password: "x", tenantId: $s) '
                       f'{{ {E} }} }}', "s"),
    "refreshToken": (f"mutation($s: String!) {{ refreshToken(token: $s) {{ {E} }} }}", "s"),
    "logout": ("mutation($s: String!) { logout(refreshToken: $s) { __typename } }", "s"),
    "switchTenant": (f"mutation($s: ID!) {{ switchTenant(tenantId: $s) {{ {E} }} }}", "s"),
    "createTenant": (f"mutation($s: String!) {{ createTenant(name: $s) {{ {E} }} }}", "s"),
    "addMember": (f"mutation($s: String!) {{ addMember(email: $s, role: EDITOR) {{ {E} }} }}", "s"),
    "acceptInvitation": (f"mutation($s: String!) {{ acceptInvitation(token: $s) {{ {E} }} }}", "s"),
    "revokeInvitation": (f"mutation($s: ID!) {{ revokeInvitation(invitationId: $s) {{ {E} }} }}", "s"),
    "changeRole": (f"mutation($s: ID!) {{ changeRole(userId: $s, role: EDITOR) {{ {E} }} }}", "s"),
    "removeMember": (f"mutation($s: ID!) {{ removeMember(userId: $s) {{ {E} }} }}", "s"),
    "createProject.description": (f'mutation($s: String!) {{ createProject(input: {{name: "ok", description: $s}})'
                                  f" {{ {E} }} }}", "s"),
    "updateProject.id": (f'mutation($s: ID!) {{ updateProject(input: {{id: $s, name: "ok"}}) {{ {E} }} }}', "s"),
    "updateProject.name": (f"mutation($s: String) {{ updateProject(input: {{id: \"{{project}}\", name: $s}}) "
                           f"{{ {E} }} }}", "s"),
    "deleteProject": (f"mutation($s: ID!) {{ deleteProject(id: $s) {{ {E} }} }}", "s"),
    "deleteJob": (f"mutation($s: ID!) {{ deleteJob(id: $s) {{ {E} }} }}", "s"),
    "deleteAsset": (f"mutation($s: ID!) {{ deleteAsset(id: $s) {{ {E} }} }}", "s"),
    "setTenantPlan.plan": (f'mutation($s: String!) {{ setTenantPlan(input: {{tenantId: "{{tenant}}", plan: $s}})'
                           f" {{ {E} }} }}", "s"),
    "startRender.projectId": (f"mutation($s: ID!) {{ startRender(projectId: $s) {{ {E} }} }}", "s"),
    "startRender.profile": (f'mutation($s: String!) {{ startRender(projectId: "{{project}}", '
                            f"options: {{profile: $s}}) {{ {E} }} }}", "s"),
    "startRender.narration": (f'mutation($s: String!) {{ startRender(projectId: "{{project}}", '
                              f"options: {{narration: $s}}) {{ {E} }} }}", "s"),
    "startRender.title": (f'mutation($s: String) {{ startRender(projectId: "{{project}}", options: {{title: $s}}) '
                          f"{{ {E} }} }}", "s"),
    "startRender.scriptText": (f'mutation($s: String) {{ startRender(projectId: "{{project}}", '
                               f"options: {{scriptText: $s}}) {{ {E} }} }}", "s"),
    "startRender.scriptAssetId": (f'mutation($s: ID) {{ startRender(projectId: "{{project}}", '
                                  f"options: {{scriptAssetId: $s}}) {{ {E} }} }}", "s"),
    "startRender.sourceAssetIds": (f'mutation($s: ID!) {{ startRender(projectId: "{{project}}", '
                                   f"options: {{sourceAssetIds: [$s]}}) {{ {E} }} }}", "s"),
    "cancelJob": (f"mutation($s: ID!) {{ cancelJob(jobId: $s) {{ {E} }} }}", "s"),
    "retryJob": (f"mutation($s: ID!) {{ retryJob(jobId: $s) {{ {E} }} }}", "s"),
    "approveAlignment": (f"mutation($s: ID!) {{ approveAlignment(jobId: $s) {{ {E} }} }}", "s"),
    "updateAlignment.jobId": (f"mutation($s: ID!) {{ updateAlignment(jobId: $s, beats: []) {{ {E} }} }}", "s"),
    "updateAlignment.source": (f'mutation($s: JSON!) {{ updateAlignment(jobId: "{{job}}", '
                               f"beats: [{{index: 0, clips: $s}}]) {{ {E} }} }}", "s"),
    "prepareUpload.filename": (f'mutation($s: String!) {{ prepareUpload(input: {{projectId: "{{project}}", '
                               f'filename: $s, kind: "source_video"}}) {{ {E} }} }}', "s"),
    "prepareUpload.kind": (f'mutation($s: String!) {{ prepareUpload(input: {{projectId: "{{project}}", '
                           f'filename: "m.mp4", kind: $s}}) {{ {E} }} }}', "s"),
    "prepareUpload.projectId": (f'mutation($s: ID!) {{ prepareUpload(input: {{projectId: $s, filename: "m.mp4", '
                                f'kind: "source_video"}}) {{ {E} }} }}', "s"),
}


def _masked(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body.get("errors") or [] if e["message"] == "Unexpected error."]


@pytest.mark.parametrize("case", sorted(CASES))
async def test_hostile_strings_never_reach_the_database(gql: Gql, make_org: Any, case: str) -> None:
    org = await make_org()
    assert org.project is not None and org.job is not None
    document, var = CASES[case]
    document = (document.replace("{project}", str(org.project.id)).replace("{tenant}", str(org.tenant.id))
                .replace("{job}", str(org.job.id)))
    for value in HOSTILE:
        variables = {var: value if "JSON" not in document else [{"source": value, "start": 0, "end": 1}]}
        body = await gql(document, variables, token=org.tokens[Role.OWNER])
        assert not _masked(body), (case, value, body)
