"""Virus scanning: the INSTREAM client against a real clamd (when installed) and a protocol-exact fake."""

from __future__ import annotations

import asyncio
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.uploads.clamd import ScanError, parse_reply, scan_file
from tests.uploads.conftest import Owner, upload_all

# The EICAR anti-virus test file (harmless by definition), assembled so this source file is not itself "infected".
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


async def _fake_clamd_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    command = await reader.readuntil(b"\0")
    assert command == b"zINSTREAM\0"
    data = bytearray()
    while True:
        (size,) = struct.unpack(">I", await reader.readexactly(4))
        if size == 0:
            break
        data += await reader.readexactly(size)
    verdict = b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0"
    writer.write(verdict)
    await writer.drain()
    writer.close()


@pytest.fixture
async def fake_clamd() -> AsyncIterator[str]:
    """A tiny clamd speaking the real INSTREAM framing; it flags the EICAR string."""
    server = await asyncio.start_server(_fake_clamd_session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"tcp://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def real_clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Debian clamd with a one-signature database (freshclam needs the internet; the official
    database is not available here), listening on a free loopback port."""
    binary = shutil.which("clamd")
    if binary is None:
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    (root / "db" / "recap-test.ndb").write_text(f"Recap.Test.EICAR:0:*:{EICAR.hex()}\n")
    port = _free_port()
    (root / "clamd.conf").write_text(
        f"DatabaseDirectory {root / 'db'}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nForeground yes\n"
        f"LogFile {root / 'clamd.log'}\nPidFile {root / 'clamd.pid'}\n")
    proc = subprocess.Popen([binary, "-c", str(root / "clamd.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"zPING\0")
                    if conn.recv(16).startswith(b"PONG"):
                        break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"clamd exited: {(root / 'clamd.log').read_text()[-2000:]}")
            time.sleep(0.1)
        else:
            pytest.fail("clamd did not answer PING")
        yield f"tcp://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(("reply", "clean", "signature"), [
    (b"stream: OK\0", True, None),
    (b"stream: Eicar-Test-Signature FOUND\0", False, "Eicar-Test-Signature"),
    (b"stream: Win.Test.EICAR_HDB-1 FOUND\0", False, "Win.Test.EICAR_HDB-1"),
])
def test_parse_reply(reply: bytes, clean: bool, signature: str | None) -> None:
    result = parse_reply(reply)
    assert (result.clean, result.signature) == (clean, signature)


def test_parse_reply_error() -> None:
    with pytest.raises(ScanError) as info:
        parse_reply(b"INSTREAM size limit exceeded. ERROR\0")
    assert info.value.code == "VIRUS_SCAN_FAILED"


async def check_scanner(url: str, tmp_path: Path) -> None:
    infected = tmp_path / "eicar.txt"
    infected.write_bytes(b"padding " * 70000 + EICAR + b"\n")  # spans several INSTREAM chunks
    clean = tmp_path / "clean.txt"
    clean.write_bytes(b"just a script\n" * 1000)
    verdict = await scan_file(url, infected)
    assert not verdict.clean and verdict.signature
    assert (await scan_file(url, clean)).clean


async def test_scan_with_fake_clamd(fake_clamd: str, tmp_path: Path) -> None:
    await check_scanner(fake_clamd, tmp_path)


async def test_scan_with_real_clamd(real_clamd: str, tmp_path: Path) -> None:
    await check_scanner(real_clamd, tmp_path)


async def test_unreachable_clamd(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"x")
    with pytest.raises(ScanError):
        await scan_file(f"tcp://127.0.0.1:{_free_port()}", path)


async def test_upload_with_eicar_refused(http: httpx.AsyncClient, owner: Owner, settings: Settings,
                                         fake_clamd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.uploads, "clamd_url", fake_clamd)
    refused = await upload_all(http, owner, EICAR + b"\n", kind="script", filename="eicar.txt")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "MALWARE_DETECTED"
    accepted = await upload_all(http, owner, b"# A clean script\n\nA beat.\n", kind="script", filename="ok.txt")
    assert accepted.status_code == 204


async def test_scanner_down_keeps_upload_open(http: httpx.AsyncClient, owner: Owner, settings: Settings,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.uploads, "clamd_url", f"tcp://127.0.0.1:{_free_port()}")
    body = b"# Script\n\nText.\n"
    resp = await upload_all(http, owner, body, kind="script", filename="s.txt")
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    location = str(resp.request.url)
    head = await http.head(location, headers=owner.headers())
    assert head.headers["Upload-Offset"] == str(len(body)) and head.headers["Recap-Upload-State"] == "receiving"
    monkeypatch.setattr(settings.uploads, "clamd_url", None)
    retried = await http.patch(location, content=b"", headers=owner.headers(
        **{"Upload-Offset": str(len(body)), "Content-Type": "application/offset+octet-stream"}))
    assert retried.status_code == 204, retried.text
