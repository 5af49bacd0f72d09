"""Invitations: nobody joins a tenant without accepting; inviting and registering reveal no accounts."""

from __future__ import annotations

import re
import uuid
from typing import Any

from app.db import system_tx
from app.models import Membership, Role
from app.services import outbox
from tests.conftest import TEST_PASSWORD
from tests.graphql.conftest import LOGIN, REGISTER, Gql, Org, payload

E = "__typename ... on Error { code message field }"
INVITE = f"""mutation($e: String!, $r: Role!) {{ addMember(email: $e, role: $r) {{ {E}
    ... on InvitationPayload {{ invitation {{ id email role expiresAt }} }} }} }}"""
ACCEPT = f"""mutation($t: String!) {{ acceptInvitation(token: $t) {{ {E}
    ... on InvitationAccepted {{ tenantId tenantName role }} }} }}"""
REVOKE = f"mutation($i: ID!) {{ revokeInvitation(invitationId: $i) {{ {E} }} }}"
PENDING_QUERY = "{ tenant { ... on Tenant { invitations { email role } } } }"


async def _pending(gql: Gql, org: Org, token: str) -> list[dict[str, Any]]:
    """The tenant's pending invitations, less the one every test org is seeded with."""
    rows = payload(await gql(PENDING_QUERY, token=token), "tenant")["invitations"]
    assert org.invitation is not None
    return [row for row in rows if row["email"] != org.invitation.email]


async def _token_sent_to(email: str) -> str:
    messages = await outbox.messages_for(email)
    assert messages and messages[0].kind == "invitation", messages
    found = re.search(r"inv1\.[A-Za-z0-9_-]+", messages[0].body)
    assert found, messages[0].body
    return found.group(0)


async def _is_member(org: Org, user_id: uuid.UUID) -> bool:
    async with system_tx():
        return await Membership.filter(tenant_id=org.tenant.id, user_id=user_id).exists()


async def test_an_invitation_takes_the_invitees_consent(gql: Gql, make_org: Any, user_factory: Any) -> None:
    org = await make_org()
    bob, bob_token = await user_factory(await _home(user_factory), Role.OWNER,
                                        email=f"bob{uuid.uuid4().hex[:6]}@example.com")
    carol, carol_token = await user_factory(await _home(user_factory), Role.OWNER)
    invited = payload(await gql(INVITE, {"e": bob.email.upper(), "r": "EDITOR"}, token=org.tokens[Role.ADMIN]),
                      "addMember")
    assert invited["invitation"]["email"] == bob.email and invited["invitation"]["role"] == "EDITOR"
    assert "token" not in str(invited)  # the inviter never sees the token
    assert not await _is_member(org, bob.id)
    assert await _pending(gql, org, org.tokens[Role.ADMIN]) == [{"email": bob.email, "role": "EDITOR"}]

    token = await _token_sent_to(bob.email)
    stolen = payload(await gql(ACCEPT, {"t": token}, token=carol_token), "acceptInvitation")
    assert stolen["code"] == "NOT_FOUND" and not await _is_member(org, carol.id)
    accepted = payload(await gql(ACCEPT, {"t": token}, token=bob_token), "acceptInvitation")
    assert accepted == {"__typename": "InvitationAccepted", "tenantId": str(org.tenant.id),
                        "tenantName": org.tenant.name, "role": "EDITOR"}
    assert await _is_member(org, bob.id)
    again = payload(await gql(ACCEPT, {"t": token}, token=bob_token), "acceptInvitation")
    assert again["code"] == "NOT_FOUND"
    assert await _pending(gql, org, org.tokens[Role.ADMIN]) == []


async def _home(user_factory: Any) -> Any:
    from app.models import Tenant

    async with system_tx():
        return await Tenant.create(name="Home", slug=f"home-{uuid.uuid4().hex[:8]}")


async def test_an_address_without_account_registers_then_accepts(gql: Gql, make_org: Any) -> None:
    org = await make_org()
    email = f"newcomer{uuid.uuid4().hex[:6]}@example.com"
    invited = payload(await gql(INVITE, {"e": email, "r": "VIEWER"}, token=org.tokens[Role.OWNER]), "addMember")
    assert invited["__typename"] == "InvitationPayload"
    session = payload(await gql(REGISTER, {"email": email, "password": TEST_PASSWORD, "displayName": "New",
                                           "tenantName": "Own"}), "register")
    accepted = payload(await gql(ACCEPT, {"t": await _token_sent_to(email)}, token=session["accessToken"]),
                       "acceptInvitation")
    assert accepted["role"] == "VIEWER"
    login = payload(await gql(LOGIN, {"email": email, "password": TEST_PASSWORD, "tenantId": str(org.tenant.id)}),
                    "login")
    assert login["role"] == "VIEWER" and login["tenantId"] == str(org.tenant.id)


async def test_a_revoked_or_replaced_invitation_cannot_be_accepted(gql: Gql, make_org: Any, user_factory: Any) -> None:
    org = await make_org()
    dan, dan_token = await user_factory(await _home(user_factory), Role.OWNER)
    first = payload(await gql(INVITE, {"e": dan.email, "r": "ADMIN"}, token=org.tokens[Role.ADMIN]), "addMember")
    old_token = await _token_sent_to(dan.email)
    payload(await gql(INVITE, {"e": dan.email, "r": "VIEWER"}, token=org.tokens[Role.ADMIN]), "addMember")
    assert payload(await gql(ACCEPT, {"t": old_token}, token=dan_token), "acceptInvitation")["code"] == "NOT_FOUND"
    assert await _pending(gql, org, org.tokens[Role.ADMIN]) == [{"email": dan.email, "role": "VIEWER"}]
    assert payload(await gql(REVOKE, {"i": first["invitation"]["id"]}, token=org.tokens[Role.ADMIN]),
                   "revokeInvitation")["code"] == "NOT_FOUND"  # already replaced
    current = (await outbox.messages_for(dan.email))[0]
    token = re.search(r"inv1\.[A-Za-z0-9_-]+", current.body).group(0)  # type: ignore[union-attr]
    async with system_tx():
        from app.models import Invitation

        live = await Invitation.get(tenant_id=org.tenant.id, email=dan.email, revoked_at=None)
    revoked = payload(await gql(REVOKE, {"i": str(live.id)}, token=org.tokens[Role.ADMIN]), "revokeInvitation")
    assert revoked["__typename"] == "RevokeInvitationPayload"
    assert payload(await gql(ACCEPT, {"t": token}, token=dan_token), "acceptInvitation")["code"] == "NOT_FOUND"
    assert not await _is_member(org, dan.id)
    other = await make_org()  # another tenant's admin cannot revoke it either (not found)
    assert payload(await gql(REVOKE, {"i": str(live.id)}, token=other.tokens[Role.ADMIN]),
                   "revokeInvitation")["code"] == "NOT_FOUND"


async def test_register_with_a_taken_email_says_nothing_more_and_tells_the_holder(gql: Gql, user_factory: Any) -> None:
    holder, _ = await user_factory(None)
    result = payload(await gql(REGISTER, {"email": holder.email, "password": "Quiet-Meadow-Lantern-7",
                                          "displayName": "Eve", "tenantName": "Evil"}), "register")
    assert (result["code"], result["field"]) == ("CONFLICT", "email")
    assert holder.email not in result["message"] and "exists" not in result["message"]
    notices = await outbox.messages_for(holder.email)
    assert [m.kind for m in notices] == ["register.attempt"]
