"""The web console end to end in a real Chromium (Debian's, driven by playwright-core).

A real ``recap serve --worker`` on the test database and Redis serves the built console; the
script web/e2e/console.mjs signs up, creates a project, uploads the Sintel trailer with the upload
interrupted by a page reload and resumed, pastes a script, renders with review, changes a beat,
approves, watches the job finish, plays and downloads ``final.mp4``; a second tenant's user cannot
open the first user's project or job. Screenshots land in ``web/test-results/`` (not committed).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.e2e.conftest import shared_file

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "app" / "web" / "dist" / "index.html"
CHROMIUM = os.environ.get("RECAP_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
async def console_server(serve_process: Any) -> AsyncIterator[str]:
    """``recap serve --worker`` on a free port (the test database and Redis); its URL."""
    async with serve_process(90.0, "--worker") as url:
        yield url


@pytest.mark.slow
@pytest.mark.timeout(1500)
async def test_console_end_to_end(console_server: str) -> None:
    source = shared_file("media", "sintel_trailer_480x204.mp4")
    assert DIST.is_file(), "the console is not built: run `make bootstrap` (npm ci && npm run build in web/)"
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: `make bootstrap` installs Debian's chromium"
    out = ROOT / "web" / "test-results"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "BASE_URL": console_server, "SOURCE": str(source), "OUT": str(out), "CHROMIUM": CHROMIUM}
    proc = await asyncio.create_subprocess_exec("node", "e2e/console.mjs", cwd=ROOT / "web", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text[-6000:]
    report = json.loads((out / "report.json").read_text())
    assert report["resumed"] is True, report
    assert report["changedBy"] in ("alternative", "trim"), report
    assert [s["name"] for s in report["steps"]][-1] == "phone-sized", report
    assert len(list(out.glob("*.png"))) >= 12
    with av.open(str(out / "final.mp4")) as container:
        video = container.streams.video[0]
        assert container.streams.audio, "the recap has no audio"
        frames = sum(1 for _ in container.decode(video))
    assert frames > 24, "the downloaded recap has almost no frames"


async def test_console_is_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    if not DIST.is_file():
        pytest.fail("the console is not built: run `make bootstrap`")
    response = await client.get("/projects/anything")  # a client-side route falls back to the app
    assert response.status_code == 200 and "<div id=\"root\">" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-cache"
    asset = next((DIST.parent / "assets").glob("*.js")).name
    cached = await client.get(f"/assets/{asset}")
    assert cached.status_code == 200 and "immutable" in cached.headers["cache-control"]
    assert (await client.get("/assets/missing-123.js")).status_code == 404
    assert (await client.get("/../pyproject.toml")).status_code == 404
