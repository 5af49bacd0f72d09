"""Upload throughput: a file through tus (8 MiB chunks, checksums) vs a plain local file copy.

One uvicorn process (subprocess, 127.0.0.1, the real ``create_app`` with PostgreSQL and Redis,
embedded ones when DATABASE_URL/REDIS_URL are unset) receives the file. The same bytes are
copied with ``shutil.copyfile`` + fsync in the same run: the baseline. Then one more upload is
broken mid-chunk (the socket dies) and resumed: the resume cost is its extra time and bytes.

    .venv/bin/python bench/uploads.py                 # 1 GiB
    .venv/bin/python bench/uploads.py --size 256M     # or --quick (128 MiB)
    -> bench/results/uploads.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MiB = 1024 * 1024


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": MiB, "G": 1024 * MiB}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def make_source(path: Path, size: int) -> None:
    """Real media (a generated MPEG-TS clip repeated), so the server's probe accepts the file."""
    from tests.media.gen import make_clip

    clip = make_clip(path.with_suffix(".clip.ts"), [("noise", 48)], size=(320, 240)).read_bytes()
    with path.open("wb") as fh:
        written = 0
        while written < size:
            piece = clip[: size - written]
            fh.write(piece)
            written += len(piece)


def hash_speeds() -> dict[str, float]:
    """MiB/s of the digests the upload path computes (client sha1, server sha1 + sha256): context for the ratio."""
    data = os.urandom(64 * MiB)
    speeds = {}
    for name in ("sha1", "sha256"):
        started = time.perf_counter()
        hashlib.new(name, data).digest()
        speeds[name] = round(64 / (time.perf_counter() - started), 1)
    return speeds


def copy_baseline(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(src, dst)
    with dst.open("rb+") as fh:
        os.fsync(fh.fileno())
    elapsed = time.perf_counter() - started
    dst.unlink()
    return elapsed


async def prepare(server_url: str) -> tuple[str, str, str]:
    """A fresh migrated database with one tenant, editor and project -> (db url, token, project id)."""
    import asyncpg

    from app.auth.tokens import issue_access_token
    from app.config import Environment, Settings
    from app.db import migrate
    from app.models import Role

    name = f"recap_bench_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(server_url)
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlunsplit(parts._replace(path=f"/{name}"))
    await migrate(url, app_role=Settings(env=Environment.TEST).db_app_role)
    conn = await asyncpg.connect(url)
    tenant, user, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO tenants (id, name, slug) VALUES ($1, 'Bench', $2)", tenant, name)
    await conn.execute("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')", user, f"{name}@b.example")
    await conn.execute("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'editor')", tenant, user)
    await conn.execute("INSERT INTO projects (id, tenant_id, name) VALUES ($1, $2, 'Bench')", project, tenant)
    await conn.close()
    token = issue_access_token(user, tenant, Role.EDITOR, settings=Settings(env=Environment.TEST).auth,
                               ttl_seconds=3600)
    return url, token, str(project)


async def drop(server_url: str, db_url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(urlunsplit(urlsplit(server_url)._replace(path="/postgres")))
    await admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(db_url).path[1:]}" WITH (FORCE)')
    await admin.close()


class TusClient:
    """A minimal tus client: 8 MiB PATCHes with a per-chunk checksum, HEAD to resume."""

    def __init__(self, base: str, token: str, project: str, chunk: int, algorithm: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=600)
        self.headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        self.project, self.chunk, self.algorithm = project, chunk, algorithm
        self.sent = 0

    def create(self, size: int) -> str:
        meta = {"filename": "bench.ts", "projectId": self.project, "kind": "source_video"}
        header = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
        resp = self.http.post("/uploads/", headers={**self.headers, "Upload-Length": str(size),
                                                    "Upload-Metadata": header})
        resp.raise_for_status()
        return urlsplit(resp.headers["Location"]).path

    def offset(self, location: str) -> int:
        return int(self.http.head(location, headers=self.headers).headers["Upload-Offset"])

    def patch_headers(self, offset: int, data: bytes) -> dict[str, str]:
        headers = {**self.headers, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        if self.algorithm != "none":
            digest = base64.b64encode(hashlib.new(self.algorithm, data).digest()).decode()
            headers["Upload-Checksum"] = f"{self.algorithm} {digest}"
        return headers

    def send(self, location: str, src: Path, offset: int, size: int) -> httpx.Response:
        with src.open("rb") as fh:
            fh.seek(offset)
            while True:
                data = fh.read(self.chunk)
                resp = self.http.patch(location, content=data, headers=self.patch_headers(offset, data))
                self.sent += len(data)
                offset += len(data)
                if resp.status_code != 204 or offset >= size:
                    return resp

    def break_mid_chunk(self, base: str, location: str, src: Path, offset: int) -> None:
        """One PATCH whose connection dies halfway through its chunk."""
        with src.open("rb") as fh:
            fh.seek(offset)
            data = fh.read(self.chunk)
        url = urlsplit(base)
        headers = {**self.patch_headers(offset, data), "Content-Length": str(len(data)), "Host": url.netloc}
        head = f"PATCH {location} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        with socket.create_connection((url.hostname, url.port)) as sock:
            sock.sendall(head.encode() + data[: len(data) // 2])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sent += len(data) // 2


def upload_once(client: TusClient, src: Path, size: int) -> dict[str, Any]:
    started = time.perf_counter()
    location = client.create(size)
    resp = client.send(location, src, 0, size)
    elapsed = time.perf_counter() - started
    if resp.status_code != 204:
        raise RuntimeError(f"upload failed: {resp.status_code} {resp.text[:300]}")
    return {"seconds": round(elapsed, 3), "mib_per_s": round(size / MiB / elapsed, 1),
            "state": resp.headers.get("Recap-Upload-State")}


def upload_with_break(client: TusClient, base: str, src: Path, size: int) -> dict[str, Any]:
    started = time.perf_counter()
    location = client.create(size)
    half = (size // 2) // client.chunk * client.chunk
    client.sent = 0
    client.send(location, src, 0, half) if half else None
    client.break_mid_chunk(base, location, src, half)
    resume_started = time.perf_counter()
    offset = half
    for _ in range(500):  # the server discards the broken, checksummed chunk and frees the upload
        offset = client.offset(location)
        resp = client.send(location, src, offset, size)
        if resp.status_code not in (409, 423):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if resp.status_code != 204:
        raise RuntimeError(f"resumed upload failed: {resp.status_code} {resp.text[:300]}")
    return {"seconds": round(elapsed, 3), "resume_seconds": round(time.perf_counter() - resume_started, 3),
            "bytes_sent": client.sent, "bytes_resent": client.sent - size, "resumed_at": offset}


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("uvicorn did not become ready")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(db_url: str, redis_url: str, token: str, project: str, src: Path, work: Path, args: Any) -> dict[str, Any]:
    size = src.stat().st_size
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "RECAP_ENV": "test",
           "RECAP_DATA_DIR": str(work / "data"), "RECAP_LOG_LEVEL": "WARNING",
           "RECAP_UPLOADS__MAX_SIZE_BYTES": str(max(size, 1) * 4)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
                             "--ws", "none", "--timeout-keep-alive", "120"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        client = TusClient(base, token, project, args.chunk, args.checksum)
        # Alternate baseline and tus so drifting machine load hits both alike.
        copies, uploads = [], []
        server = psutil.Process(proc.pid)
        for _ in range(args.rounds):
            copies.append(copy_baseline(src, work / "copy.bin"))
            cpu, mine = server.cpu_times(), time.process_time()
            uploads.append(upload_once(client, src, size))
            after = server.cpu_times()
            uploads[-1]["server_cpu_s"] = round(after.user + after.system - cpu.user - cpu.system, 3)
            uploads[-1]["client_cpu_s"] = round(time.process_time() - mine, 3)
        broken = upload_with_break(client, base, src, size)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    copy_s = min(copies)
    best = min(uploads, key=lambda u: u["seconds"])
    return {
        "benchmark": "uploads", "size_bytes": size, "chunk_bytes": args.chunk, "checksum": args.checksum,
        "rounds": args.rounds, "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
        "copy": {"seconds": round(copy_s, 3), "mib_per_s": round(size / MiB / copy_s, 1)},
        "tus": best, "tus_all_seconds": [u["seconds"] for u in uploads],
        "ratio": round(copy_s / best["seconds"], 3),
        "server_cpu_s_per_gib": round(best["server_cpu_s"] / (size / (1024 * MiB)), 2),
        "resume": {**broken, "extra_seconds_vs_clean": round(broken["seconds"] - best["seconds"], 3)},
        "hash_mib_per_s": hash_speeds(),
        "aims": {"ratio": ">= 0.5"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=1024 * MiB, help="file size, e.g. 1G, 256M")
    parser.add_argument("--chunk", type=parse_size, default=8 * MiB)
    parser.add_argument("--checksum", choices=["sha1", "sha256", "none"], default="sha1",
                        help="per-chunk Upload-Checksum (none: only the server's whole-file sha256)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="128 MiB, one round")
    args = parser.parse_args()
    if args.quick:
        args.size, args.rounds = 128 * MiB, 1
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recap-bench-uploads-")))
        src = work / "source.ts"
        make_source(src, args.size)
        server_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
        if not (server_url and redis_url):
            from app.config import Environment, Settings
            from app.embedded import embedded_stack

            server_url, redis_url = stack.enter_context(
                embedded_stack(Settings(env=Environment.TEST, data_dir=work / "stack")))
        db_url, token, project = asyncio.run(prepare(server_url))
        try:
            result = measure(db_url, redis_url, token, project, src, work, args)
        finally:
            asyncio.run(drop(server_url, db_url))
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "uploads.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
