"""The remote GPU worker: pulls chunks from the Recap API over HTTPS and pushes segments back.

For hosts that cannot reach Redis or PostgreSQL (Colab). Only the standard library talks HTTP. A claim
is extended by a heartbeat thread while its chunk is upscaled; a preempted notebook simply stops, its
claim expires and the chunk goes to the next worker::

    worker = RemoteWorker("https://recap.example", token, Path("/content/work"))
    worker.run(stop_after_idle_s=600)        # claim -> download -> upscale -> upload, until idle
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from colab.chunks import Chunk, sha256_file
from colab.infer import InferOptions, Upscaler
from colab.manifest import upscale_chunk
from colab.models import load_network
from colab.video import VideoOptions

HEARTBEAT_S = 20.0


class RemoteError(RuntimeError):
    """The API refused us (bad or expired token: ``status`` 401) or answered something unexpected."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


@dataclass
class RemoteWorker:
    base_url: str
    token: str
    workdir: Path
    device: str = "auto"
    dtype: str = "auto"
    timeout_s: float = 120.0
    done: list[tuple[str, int]] = field(default_factory=list)
    _upscalers: dict[str, Upscaler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.base_url)
        local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("the API must be reached over HTTPS (plain HTTP only to this machine)")
        self.base_url = self.base_url.rstrip("/")

    def _request(self, method: str, path: str, *, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers={  # noqa: S310
            "Authorization": f"Bearer {self.token}", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (scheme checked)
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as ex:
            raise RemoteError(ex.code, ex.read().decode(errors="replace")[:300]) from ex

    def _json(self, method: str, path: str, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        body = None if data is None else json.dumps(data).encode()
        status, raw = self._request(method, path, body=body, headers={"Content-Type": "application/json"})
        return status, (json.loads(raw) if raw else None)

    def claim(self) -> dict[str, Any] | None:
        status, work = self._json("POST", "/gpu/v1/claim", {})
        return work if status == 200 else None

    def heartbeat(self, job_id: str | None = None, index: int | None = None) -> bool:
        _status, data = self._json("POST", "/gpu/v1/heartbeat", {"job_id": job_id, "index": index})
        return bool(data and data.get("held"))

    def _upscaler(self, model: str) -> Upscaler:
        if model not in self._upscalers:
            self._upscalers[model] = Upscaler(load_network(model), InferOptions(device=self.device, dtype=self.dtype))
        return self._upscalers[model]

    def process(self, work: dict[str, Any]) -> None:
        """Download the claimed chunk, upscale it, upload its segment (the claim kept alive meanwhile)."""
        chunk = Chunk.from_json(work["chunk"])
        job_dir = self.workdir / work["job_id"]
        (job_dir / "inputs").mkdir(parents=True, exist_ok=True)
        (job_dir / "outputs").mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(work["job_id"], chunk.index, stop), daemon=True)
        beat.start()
        try:
            _status, data = self._request("GET", work["input_url"])
            (job_dir / "inputs" / chunk.name).write_bytes(data)
            video = VideoOptions(**work.get("video", {}))
            upscale_chunk(job_dir, chunk, self._upscaler(work["model"]), video)
            segment = job_dir / "outputs" / chunk.segment
            self._request("PUT", work["segment_url"], body=segment.read_bytes(),
                          headers={"X-Content-SHA256": sha256_file(segment), "Content-Type": "video/mp4"})
            self.done.append((work["job_id"], chunk.index))
        except Exception as ex:
            self._json("POST", "/gpu/v1/report", {"job_id": work["job_id"], "index": chunk.index, "error": str(ex)})
            raise
        finally:
            stop.set()
            beat.join()

    def _beat(self, job_id: str, index: int, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                if not self.heartbeat(job_id, index):
                    return
            except (RemoteError, OSError):
                continue

    def run(self, *, stop_after_idle_s: float = 600.0, poll_s: float = 5.0, max_chunks: int | None = None) -> int:
        """Work until nothing was offered for ``stop_after_idle_s``; returns the chunks done."""
        idle_since = time.monotonic()
        while max_chunks is None or len(self.done) < max_chunks:
            work = self.claim()
            if work is None:
                if time.monotonic() - idle_since >= stop_after_idle_s:
                    break
                self.heartbeat()
                time.sleep(poll_s)
                continue
            self.process(work)
            idle_since = time.monotonic()
        return len(self.done)
