"""Audit events carry the requester's user agent and IP, taken from the request by a middleware."""

from __future__ import annotations

import httpx

from app.db import system_tx
from app.models import AuditEvent, User
from tests.graphql.conftest import REGISTER, new_email


async def test_register_event_has_the_user_agent_and_ip(client: httpx.AsyncClient) -> None:
    email = new_email()
    response = await client.post("/graphql", headers={"User-Agent": "RecapTest/2.0 (audit)"}, json={
        "query": REGISTER, "variables": {"email": email, "password": "Correct-Horse-42", "displayName": "Ann",
                                         "tenantName": "Studio"}})
    assert response.json()["data"]["register"]["__typename"] == "AuthPayload"
    async with system_tx():
        user = await User.get(email=email)
        event = await AuditEvent.filter(actor_id=user.id, action="user.registered").first()
    assert event is not None and event.user_agent == "RecapTest/2.0 (audit)" and event.ip
