"""A full disk during an upload: a clear 507, nothing kept past the acknowledged offset, counters unchanged.

The staging folder is put on a small tmpfs (root only) and filled to the last byte before the PATCH.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db import system_tx
from app.models import Asset, UsageCounter
from app.uploads.service import staging_dir
from app.uploads.tus import TusError, append_stream
from tests.uploads.conftest import Owner, tus_create, tus_patch

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@contextlib.contextmanager
def full_tmpfs(path: Path, size_mb: int = 8) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(folder: Path) -> None:
    with open(folder / "filler.bin", "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)


async def test_append_on_a_full_disk_is_507_and_keeps_the_offset(tmp_path: Path) -> None:
    with full_tmpfs(tmp_path / "disk") as disk:
        part = disk / "u.part"
        part.write_bytes(b"x" * 1000)
        fill(disk)

        async def body() -> Any:
            yield b"y" * 300_000

        with pytest.raises(TusError) as info:
            await append_stream(part, 1000, body(), limit=1 << 20, checksum=None)
        assert (info.value.status, info.value.code) == (507, "INSUFFICIENT_STORAGE")
        assert part.stat().st_size == 1000  # cut back to the acknowledged offset
        with pytest.raises(OSError) as full:
            (disk / "probe").write_bytes(b"z" * 8192)
        assert full.value.errno == errno.ENOSPC  # the disk really was full


async def test_a_patch_on_a_full_disk_changes_nothing(http: httpx.AsyncClient, owner: Owner, settings: Any,
                                                      clip_bytes: bytes) -> None:
    async with system_tx():
        usage_before = [(u.period, u.storage_bytes) for u in await UsageCounter.filter(tenant_id=owner.tenant.id)]
    with full_tmpfs(staging_dir(settings)) as staging:
        created = await tus_create(http, owner, length=len(clip_bytes))
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        fill(staging)
        answer = await tus_patch(http, owner, location, 0, clip_bytes)
        assert answer.status_code == 507, answer.text
        assert "INSUFFICIENT_STORAGE" in answer.text
        head = await http.head(location, headers=owner.headers())
        assert head.headers["Upload-Offset"] == "0"
        (staging / "filler.bin").unlink()
        again = await tus_patch(http, owner, location, 0, clip_bytes)  # the disk has room again: it resumes
        assert again.status_code == 204, again.text
    async with system_tx():
        usage_after = [(u.period, u.storage_bytes) for u in await UsageCounter.filter(tenant_id=owner.tenant.id)]
        assets = await Asset.filter(project_id=owner.project_id)
    assert len(assets) == 1 and assets[0].size_bytes == len(clip_bytes)  # one asset, whole, after the retry
    assert sum(b for _, b in usage_after) - sum(b for _, b in usage_before) == len(clip_bytes)  # charged once
