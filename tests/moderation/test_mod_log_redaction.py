"""Privacy-compliant logs: no e-mail, password, token, IP or signed-URL query string in clear in any log line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app.log_redaction import install_redaction, redact
from tests.graphql.conftest import LOGIN, ME, REFRESH, REGISTER, Gql, new_email, payload

PASSWORD = "Correct-Horse-42"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize(("text", "hidden"), [
    ("user ann.lee+x@studio.example.com logged in", "ann.lee+x@studio.example.com"),
    (f"Authorization: Bearer {JWT}", JWT),
    ("bearer abcdef0123456789abcdef", "abcdef0123456789abcdef"),
    ("refresh_token=r3fr3sh-t0k3n-value&x=1", "r3fr3sh-t0k3n-value"),
    ("from 203.0.113.77 port 5", "203.0.113.77"),
    ("from 2001:db8::ff00:42:8329", "2001:db8::ff00:42:8329"),
    ("GET https://cdn.example.com/outputs/j1/final.mp4?exp=123&sig=deadbeefcafe done", "sig=deadbeefcafe"),
    ("/downloads/abc/final.mp4?token=zzzzzzzzzz&exp=1", "zzzzzzzzzz"),
    ("params: ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA']", "c2FsdA$aGFzaA"),
])
def test_redact_masks_personal_data_and_secrets(text: str, hidden: str) -> None:
    assert hidden not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    line = "stage align of job 3f2b finished at 12:30:45 in 2.5 s (v1.2.3, 12 beats)"
    assert redact(line) == line


async def test_end_to_end_flow_leaves_no_secret_in_any_log_line(gql: Gql, caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    caplog.set_level(logging.DEBUG)
    email = new_email()
    session = payload(await gql(REGISTER, {"email": email, "password": PASSWORD, "displayName": "Ann",
                                           "tenantName": "Studio"}), "register")
    await gql(LOGIN, {"email": email, "password": "Wrong-Horse-42"})
    login = payload(await gql(LOGIN, {"email": email, "password": PASSWORD}), "login")
    refreshed = payload(await gql(REFRESH, {"token": login["refreshToken"]}), "refreshToken")
    me: dict[str, Any] = await gql(ME, token=refreshed["accessToken"])
    assert me["data"]["me"]["user"]["email"] == email
    # Code that logs carelessly is still covered: the redaction runs for every record.
    log = logging.getLogger("recap.test")
    log.info("careless: %s token=%s from 198.51.100.4", email, login["accessToken"])
    log.info("link https://recap.example/outputs/x/final.mp4?exp=1&sig=%s", refreshed["refreshToken"])
    secrets = [email, email.split("@")[0] + "@", PASSWORD, "Wrong-Horse-42", "198.51.100.4",
               *(s[k] for s in (session, login, refreshed) for k in ("accessToken", "refreshToken"))]
    lines = [caplog.handler.format(r) for r in caplog.records]
    assert len(lines) >= 2
    leaks = [(s, line) for line in lines for s in secrets if s in line]
    assert leaks == []
