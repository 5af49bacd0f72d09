"""A demoted or removed admin loses their powers at once, with their still-valid access token.

The sequence a live probe used: the admin's token (role ADMIN in its claims) keeps working after the
owner demotes or removes them; in that window they add an accomplice as ADMIN, change the quota,
upload and subscribe. Each step must now be refused, and a removed member's refresh token must be dead.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import websockets

from app.config import Settings
from app.db import system_tx
from app.models import Invitation, Membership, QuotaPolicy, RefreshToken, Role, User
from tests.conftest import TEST_PASSWORD
from tests.graphql.conftest import LOGIN, REFRESH, Gql, Org, payload, top_code
from tests.runners.conftest import api_server  # noqa: F401  (fixture)

E = "__typename ... on Error { code message field }"
ADD_ADMIN = f"mutation($e: String!) {{ addMember(email: $e, role: ADMIN) {{ {E} }} }}"
SET_QUOTA = (f"mutation($t: ID!) {{ setQuotaPolicy(input: {{tenantId: $t, concurrentJobs: 99, "
             f"processingMinutesPerMonth: 99999, storageBytes: \"999999999999\"}}) {{ {E} }} }}")
PREPARE = (f"mutation($p: ID!) {{ prepareUpload(input: {{projectId: $p, filename: \"a.mp4\", size: 10}}) "
           f"{{ {E} ... on UploadTicket {{ endpoint }} }} }}")
MEMBERS = "{ tenant { __typename ... on Tenant { members { role } } } }"
SUBSCRIBE = "subscription($j: ID!) { jobProgress(jobId: $j) { seq state } }"


async def _session(gql: Gql, org: Org) -> dict[str, Any]:
    body = await gql(LOGIN, {"email": org.users[Role.ADMIN].email, "password": TEST_PASSWORD,
                             "tenantId": str(org.tenant.id)})
    session = payload(body, "login")
    assert session["role"] == "ADMIN", session
    return session


def _refused(body: dict[str, Any], field: str, codes: set[str]) -> str:
    """The code of a refusal: a typed error member, or a top-level error (field null)."""
    if body.get("errors"):
        code = top_code(body)
    else:
        result = body["data"][field]
        assert result["__typename"].endswith("Error"), result
        code = result["code"]
    assert code in codes, body
    return code


async def _ws_connect(url: str, token: str) -> Any:
    ws = await websockets.connect(url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _ws_subscribe(ws: Any, job_id: str) -> dict[str, Any]:
    await ws.send(json.dumps({"id": "1", "type": "subscribe",
                              "payload": {"query": SUBSCRIBE, "variables": {"j": job_id}}}))
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] != "ping":
            return message


@pytest.mark.parametrize("change", ["demoted", "removed"])
async def test_demoted_or_removed_admin_is_refused_at_once(gql: Gql, make_org: Any, user_factory: Any,
                                                           settings: Settings, api_server: Any,  # noqa: F811
                                                           change: str) -> None:
    org = await make_org()
    accomplice, _ = await user_factory(None)
    session = await _session(gql, org)
    token, admin = session["accessToken"], org.users[Role.ADMIN]
    # The admin's powers work, and the cache now holds "admin" (what follows proves it is invalidated).
    assert payload(await gql(MEMBERS, token=token), "tenant")["__typename"] == "Tenant"
    async with api_server(settings) as url:
        ws = await _ws_connect(url, token)  # a socket opened while still admin
        try:
            owner = org.tokens[Role.OWNER]
            if change == "demoted":
                result = payload(await gql(f"mutation($u: ID!) {{ changeRole(userId: $u, role: VIEWER) {{ {E} }} }}",
                                           {"u": str(admin.id)}, token=owner), "changeRole")
            else:
                result = payload(await gql(f"mutation($u: ID!) {{ removeMember(userId: $u) {{ {E} }} }}",
                                           {"u": str(admin.id)}, token=owner), "removeMember")
            assert not result["__typename"].endswith("Error"), result
            expected = {"PERMISSION_DENIED"} if change == "demoted" else {"UNAUTHENTICATED"}

            _refused(await gql(ADD_ADMIN, {"e": accomplice.email}, token=token), "addMember", expected)
            _refused(await gql(SET_QUOTA, {"t": str(org.tenant.id)}, token=token), "setQuotaPolicy", expected)
            assert org.project is not None and org.job is not None
            _refused(await gql(PREPARE, {"p": str(org.project.id)}, token=token), "prepareUpload", expected)
            async with httpx.AsyncClient(base_url=url) as http:
                tus = await http.post("/uploads/", headers={"Authorization": f"Bearer {token}",
                                                            "Tus-Resumable": "1.0.0", "Upload-Length": "10"})
            assert tus.status_code in (401, 403), tus.text
            message = await _ws_subscribe(ws, str(org.job.id))
            if change == "removed":
                assert message["type"] in ("error", "next"), message
                assert "UNAUTHENTICATED" in json.dumps(message), message
            else:  # a viewer may still watch progress; the role seen is the current one
                assert message["type"] == "next" and not message["payload"].get("errors"), message
        finally:
            await ws.close()

    async with system_tx():
        assert not await Membership.filter(tenant_id=org.tenant.id, user_id=accomplice.id).exists()
        assert not await Invitation.filter(tenant_id=org.tenant.id, email=accomplice.email).exists()
        assert not await QuotaPolicy.filter(tenant_id=org.tenant.id).exists()
        live = await RefreshToken.filter(user_id=admin.id, revoked_at=None).count()
    refreshed = payload(await gql(REFRESH, {"token": session["refreshToken"]}), "refreshToken")
    if change == "removed":
        assert live == 0
        assert refreshed["code"] == "UNAUTHENTICATED", refreshed
    else:  # the next session carries the current role
        assert refreshed["role"] == "VIEWER", refreshed


async def test_revoked_platform_admin_flag_takes_effect_at_once(gql: Gql, make_org: Any, user_factory: Any) -> None:
    org, home = await make_org(), await make_org()
    staff, token = await user_factory(home.tenant, Role.VIEWER, is_platform_admin=True)
    variables = {"t": str(org.tenant.id)}
    assert payload(await gql(SET_QUOTA, variables, token=token), "setQuotaPolicy")["__typename"] == "QuotaPayload"
    from app.services.auth import set_platform_admin

    assert await set_platform_admin(staff.email.upper(), False) == staff.id
    assert _refused(await gql(SET_QUOTA, variables, token=token), "setQuotaPolicy", {"NOT_FOUND"})


async def test_disabled_account_is_refused_at_once(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    token = org.tokens[Role.EDITOR]
    assert payload(await gql("{ me { role } }", token=token), "me") == {"role": "EDITOR"}
    from app.auth import access

    async with system_tx():
        await User.filter(id=org.users[Role.EDITOR].id).update(is_active=False)
    await access.invalidate_user(org.users[Role.EDITOR].id)
    assert top_code(await gql("{ me { role } }", token=token)) == "UNAUTHENTICATED"


async def test_a_token_for_a_tenant_without_membership_is_refused(gql: Gql, user_factory: Any) -> None:
    _, token = await user_factory(None, Role.OWNER)  # a forged-looking but validly signed token
    assert top_code(await gql("{ quota { plan } }", token=token)) == "UNAUTHENTICATED"
