"""RBAC: a table of operation x role -> allowed, plus owner-only and last-owner rules, platform admins."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.db import system_tx
from app.models import Membership, Project, QuotaPolicy, Role
from app.models.enums import ROLE_RANK
from tests.graphql.conftest import Gql, Org, payload

E = "__typename ... on Error { code message field }"

Build = Callable[[Org, Any], Awaitable[tuple[str, dict[str, Any]]]]


async def _fresh_project(org: Org, _: Any) -> tuple[str, dict[str, Any]]:
    async with system_tx():
        project = await Project.create(tenant_id=org.tenant.id, name="to delete")
    return f"mutation($id: ID!) {{ deleteProject(id: $id) {{ {E} }} }}", {"id": str(project.id)}


async def _add_member(org: Org, user_factory: Any) -> tuple[str, dict[str, Any]]:
    stranger, _ = await user_factory(None)
    return (f"mutation($e: String!) {{ addMember(email: $e, role: VIEWER) {{ {E} }} }}", {"e": stranger.email})


async def _member(org: Org, user_factory: Any) -> str:
    member, _ = await user_factory(org.tenant, Role.VIEWER)
    return str(member.id)


async def _change_role(org: Org, user_factory: Any) -> tuple[str, dict[str, Any]]:
    return (f"mutation($u: ID!) {{ changeRole(userId: $u, role: EDITOR) {{ {E} }} }}",
            {"u": await _member(org, user_factory)})


async def _remove_member(org: Org, user_factory: Any) -> tuple[str, dict[str, Any]]:
    return (f"mutation($u: ID!) {{ removeMember(userId: $u) {{ {E} }} }}", {"u": await _member(org, user_factory)})


def static(query: str, variables: Callable[[Org], dict[str, Any]] = lambda org: {}) -> Build:
    async def build(org: Org, _: Any) -> tuple[str, dict[str, Any]]:
        return query, variables(org)
    return build


#: operation -> (root field, minimum role, how to build it).
OPERATIONS: dict[str, tuple[str, Role, Build]] = {
    "me": ("me", Role.VIEWER, static("{ me { role } }")),
    "project": ("project", Role.VIEWER, static(f"query($id: ID!) {{ project(id: $id) {{ {E} }} }}",
                                               lambda org: {"id": str(org.project.id)})),  # type: ignore[union-attr]
    "projects": ("projects", Role.VIEWER, static("{ projects { edges { node { id assets { id } } } } }")),
    "job": ("job", Role.VIEWER, static(f"query($id: ID!) {{ job(id: $id) {{ {E} }} }}",
                                       lambda org: {"id": str(org.job.id)})),  # type: ignore[union-attr]
    "jobs": ("jobs", Role.VIEWER, static(f"query($p: ID!) {{ jobs(projectId: $p) {{ {E} }} }}",
                                         lambda org: {"p": str(org.project.id)})),  # type: ignore[union-attr]
    "quota": ("quota", Role.VIEWER, static("{ quota { limits { storageBytes } } }")),
    "createProject": ("createProject", Role.EDITOR,
                      static(f'mutation {{ createProject(input: {{name: "New"}}) {{ {E} }} }}')),
    "updateProject": ("updateProject", Role.EDITOR,
                      static(f'mutation($id: ID!) {{ updateProject(input: {{id: $id, name: "Renamed"}}) {{ {E} }} }}',
                             lambda org: {"id": str(org.project.id)})),  # type: ignore[union-attr]
    "deleteProject": ("deleteProject", Role.ADMIN, _fresh_project),
    "tenant": ("tenant", Role.ADMIN, static(f"{{ tenant {{ {E} ... on Tenant {{ members {{ role }} }} }} }}")),
    "addMember": ("addMember", Role.ADMIN, _add_member),
    "changeRole": ("changeRole", Role.ADMIN, _change_role),
    "removeMember": ("removeMember", Role.ADMIN, _remove_member),
    "revokeInvitation": ("revokeInvitation", Role.ADMIN, static(
        f"mutation($i: ID!) {{ revokeInvitation(invitationId: $i) {{ {E} }} }}", lambda org: {"i": str(uuid.uuid4())})),
}
#: Platform powers: refused to every tenant role, owners included.
PLATFORM_OPERATIONS: dict[str, Build] = {
    "setQuotaPolicy": static(
        f"mutation($t: ID!) {{ setQuotaPolicy(input: {{tenantId: $t, concurrentJobs: 2, "
        f"processingMinutesPerMonth: 60, storageBytes: \"5000000000\"}}) {{ {E} }} }}",
        lambda org: {"t": str(org.tenant.id)}),
    "setTenantPlan": static(f'mutation($t: ID!) {{ setTenantPlan(input: {{tenantId: $t, plan: "studio"}}) {{ {E} }} }}',
                            lambda org: {"t": str(org.tenant.id)}),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_role_matrix(gql: Gql, make_org: Any, user_factory: Any, operation: str, role: Role) -> None:
    field, minimum, build = OPERATIONS[operation]
    org = await make_org()
    query, variables = await build(org, user_factory)
    body = await gql(query, variables, token=org.tokens[role])
    result = payload(body, field)
    allowed = ROLE_RANK[role] >= ROLE_RANK[minimum]
    typename = result.get("__typename") if isinstance(result, dict) else None
    if allowed:
        assert typename is None or not typename.endswith("Error") or result["code"] == "NOT_FOUND", result
    else:
        assert typename == "PermissionDeniedError" and result["code"] == "PERMISSION_DENIED", result


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("operation", list(PLATFORM_OPERATIONS))
async def test_quota_policy_is_a_platform_power(gql: Gql, make_org: Any, operation: str, role: Role) -> None:
    org = await make_org()
    query, variables = await PLATFORM_OPERATIONS[operation](org, None)
    result = payload(await gql(query, variables, token=org.tokens[role]), operation)
    assert (result["__typename"], result["code"]) == ("PermissionDeniedError", "PERMISSION_DENIED"), result
    async with system_tx():
        assert not await QuotaPolicy.filter(tenant_id=org.tenant.id).exists()


async def _role_of(org: Org, role: Role) -> str:
    async with system_tx():
        membership = await Membership.get(tenant_id=org.tenant.id, user_id=org.users[role].id)
    return membership.role.value


async def test_only_owners_grant_or_change_the_owner_role(gql: Gql, make_org: Any, user_factory: Any) -> None:
    org = await make_org()
    stranger, _ = await user_factory(None)
    grant = f"mutation($e: String!) {{ addMember(email: $e, role: OWNER) {{ {E} }} }}"
    denied = payload(await gql(grant, {"e": stranger.email}, token=org.tokens[Role.ADMIN]), "addMember")
    assert denied["code"] == "PERMISSION_DENIED"
    demote = f"mutation($u: ID!) {{ changeRole(userId: $u, role: VIEWER) {{ {E} }} }}"
    target = {"u": str(org.users[Role.OWNER].id)}
    assert payload(await gql(demote, target, token=org.tokens[Role.ADMIN]), "changeRole")["code"] == "PERMISSION_DENIED"
    promote = f"mutation($u: ID!) {{ changeRole(userId: $u, role: OWNER) {{ {E} }} }}"
    result = payload(await gql(promote, {"u": str(org.users[Role.ADMIN].id)}, token=org.tokens[Role.ADMIN]),
                     "changeRole")
    assert result["code"] == "PERMISSION_DENIED"
    assert await _role_of(org, Role.ADMIN) == "admin" and await _role_of(org, Role.OWNER) == "owner"
    granted = payload(await gql(grant, {"e": stranger.email}, token=org.tokens[Role.OWNER]), "addMember")
    assert granted["__typename"] == "InvitationPayload"


async def test_the_last_owner_can_be_neither_demoted_nor_removed(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    owner = {"u": str(org.users[Role.OWNER].id)}
    token = org.tokens[Role.OWNER]
    demote = f"mutation($u: ID!) {{ changeRole(userId: $u, role: ADMIN) {{ {E} }} }}"
    remove = f"mutation($u: ID!) {{ removeMember(userId: $u) {{ {E} }} }}"
    assert payload(await gql(demote, owner, token=token), "changeRole")["code"] == "CONFLICT"
    assert payload(await gql(remove, owner, token=token), "removeMember")["code"] == "CONFLICT"
    assert await _role_of(org, Role.OWNER) == "owner"
    # With a second owner, the first may step down.
    promote = f"mutation($u: ID!) {{ changeRole(userId: $u, role: OWNER) {{ {E} }} }}"
    second = {"u": str(org.users[Role.ADMIN].id)}
    assert payload(await gql(promote, second, token=token), "changeRole")["__typename"] == "MemberPayload"
    assert payload(await gql(demote, owner, token=token), "changeRole")["__typename"] == "MemberPayload"
    assert await _role_of(org, Role.OWNER) == "admin"


async def test_members_may_leave_and_admins_remove_non_owners(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    remove = f"mutation($u: ID!) {{ removeMember(userId: $u) {{ {E} }} }}"
    me = {"u": str(org.users[Role.VIEWER].id)}
    assert payload(await gql(remove, me, token=org.tokens[Role.VIEWER]), "removeMember")["__typename"] == (
        "RemoveMemberPayload")
    editor = {"u": str(org.users[Role.EDITOR].id)}
    assert payload(await gql(remove, editor, token=org.tokens[Role.ADMIN]), "removeMember")["__typename"] == (
        "RemoveMemberPayload")
    async with system_tx():
        assert await Membership.filter(tenant_id=org.tenant.id).count() == 2


async def test_add_member_answers_alike_for_unknown_known_and_member_emails(gql: Gql, make_org: Any,
                                                                            user_factory: Any) -> None:
    org = await make_org()
    stranger, _ = await user_factory(None)
    add = f"mutation($e: String!) {{ addMember(email: $e, role: EDITOR) {{ {E} " \
          "... on InvitationPayload { invitation { email role } } } }"
    answers = []
    for email in (f"nobody{uuid.uuid4().hex[:6]}@example.com", stranger.email, org.users[Role.VIEWER].email):
        result = payload(await gql(add, {"e": email}, token=org.tokens[Role.ADMIN]), "addMember")
        answers.append((result["__typename"], set(result["invitation"]), result["invitation"]["role"]))
    assert answers == [("InvitationPayload", {"email", "role"}, "EDITOR")] * 3
    async with system_tx():  # nobody joined without accepting
        assert not await Membership.filter(tenant_id=org.tenant.id, user_id=stranger.id).exists()
        assert (await Membership.get(tenant_id=org.tenant.id, user_id=org.users[Role.VIEWER].id)).role is Role.VIEWER
    bad = payload(await gql(add, {"e": "not-an-email"}, token=org.tokens[Role.ADMIN]), "addMember")
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "email")


async def test_platform_admin_sets_any_tenants_quota(gql: Gql, make_org: Any, user_factory: Any) -> None:
    org = await make_org()
    other = await make_org()
    _, platform_token = await user_factory(other.tenant, Role.VIEWER, is_platform_admin=True)
    query = (f"mutation($t: ID!) {{ setQuotaPolicy(input: {{tenantId: $t, concurrentJobs: 9, "
             f"processingMinutesPerMonth: 900, storageBytes: 12345678901}}) {{ {E} "
             f"... on QuotaPayload {{ quota {{ tenantId isDefault limits {{ concurrentJobs storageBytes }} }} }} }} }}")
    result = payload(await gql(query, {"t": str(org.tenant.id)}, token=platform_token), "setQuotaPolicy")
    assert result["quota"] == {"tenantId": str(org.tenant.id), "isDefault": False,
                               "limits": {"concurrentJobs": 9, "storageBytes": 12345678901}}
    foreign = payload(await gql(query, {"t": str(org.tenant.id)}, token=other.tokens[Role.OWNER]), "setQuotaPolicy")
    assert foreign["code"] == "NOT_FOUND"
    seen = payload(await gql("{ quota { limits { concurrentJobs } } }", token=org.tokens[Role.VIEWER]), "quota")
    assert seen == {"limits": {"concurrentJobs": 9}}
