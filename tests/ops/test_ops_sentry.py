"""Sentry: an exception in a stage reaches a Sentry-compatible sink with its tags and without PII."""

from __future__ import annotations

import asyncio
import gzip
import http.server
import json
import os
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from app.config import Settings
from app.observability import before_send, scrub
from tests.ops.conftest import message_of

HERE = Path(__file__).resolve().parent


class _Sink(http.server.BaseHTTPRequestHandler):
    envelopes: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        type(self).envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sentry_sink() -> Iterator[tuple[str, list[bytes]]]:
    _Sink.envelopes = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_address[1]}/42", _Sink.envelopes
    finally:
        server.shutdown()
        server.server_close()


def _events(envelopes: list[bytes]) -> list[dict[str, Any]]:
    events = []
    for raw in envelopes:
        lines = raw.split(b"\n")
        for i, line in enumerate(lines[1:], start=1):
            try:
                header = json.loads(line)
            except ValueError:
                continue
            if isinstance(header, dict) and header.get("type") == "event" and i + 1 < len(lines):
                events.append(json.loads(lines[i + 1]))
    return events


async def test_stage_exception_arrives_tagged_and_scrubbed(settings: Settings, render_job: Any, redis_client: Any,
                                                           sentry_sink: tuple[str, list[bytes]]) -> None:
    dsn, envelopes = sentry_sink
    _, job = await render_job()
    meta = (await message_of(redis_client, job.id, "ingest"))["k"]["meta"]
    env = {**os.environ, "RECAP_SENTRY_DSN": dsn, "RECAP_OBSERVABILITY__RELEASE": "recap@test-1",
           "PYTHONPATH": str(HERE.parents[1])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "sentry_stage_scenario.py"), str(job.id), json.dumps(meta), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    events = _events(envelopes)
    assert events, f"no event reached the sink ({len(envelopes)} envelopes)"
    event = next(e for e in events if "RuntimeError" in json.dumps(e.get("exception", {})))
    assert event["tags"]["job_id"] == str(job.id)
    assert event["tags"]["stage"] == "ingest"
    assert event["tags"]["tenant_id"] == str(job.tenant_id)  # type: ignore[attr-defined]
    assert event["tags"]["component"] == "worker-cpu"
    assert event["release"] == "recap@test-1" and event["environment"] == "test"
    raw = b"".join(envelopes).decode("utf-8", "replace")
    for secret in ("alice@example.com", "203.0.113.7", "abcdefghijklmnopqrstuvwxyz0123456789"):
        assert secret not in raw
    assert "[Filtered]" in json.dumps(event["exception"])


def test_scrub_removes_pii_but_keeps_ids() -> None:
    event = {"user": {"id": "u1", "email": "bob@example.org", "ip_address": "198.51.100.2"},
             "request": {"headers": [["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"],
                                     ["X-Forwarded-For", "198.51.100.2"], ["Accept", "text/html"]],
                         "cookies": {"s": "x"}, "data": {"password": "hunter2"}},
             "extra": {"note": "mail carol@example.net", "ipv6": "2001:db8::1:2:3:4"},
             "tags": {"job_id": "123e4567-e89b-12d3-a456-426614174000", "stage": "align"}}
    cleaned = before_send(event, {})
    text = json.dumps(cleaned)
    for secret in ("bob@example.org", "198.51.100.2", "eyJhbGci", "hunter2", "carol@example.net", "2001:db8"):
        assert secret not in text
    assert cleaned["user"] == {"id": "u1"}
    assert cleaned["tags"] == {"job_id": "123e4567-e89b-12d3-a456-426614174000", "stage": "align"}
    assert ["Accept", "text/html"] in cleaned["request"]["headers"]
    assert scrub({"api_key": "k", "ok": 1}) == {"api_key": "[Filtered]", "ok": 1}
