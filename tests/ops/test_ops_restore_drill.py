"""The restore drill (scripts/restore-drill.sh) on a throwaway local cluster: base backup + WAL archive,
point-in-time recovery to a noted time, and exactly the rows committed before it come back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "restore-drill.sh"


async def test_point_in_time_restore_brings_back_exactly_the_earlier_rows() -> None:
    proc = await asyncio.create_subprocess_exec("bash", str(SCRIPT), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, (out + err).decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["ok"] is True and result["promoted"] is True and result["expected_ids_match"] is True
    assert result["restored_rows"] == {"before-backup": 100, "after-backup": 50}  # none of "after-target"
    assert result["wal_segments_archived"] >= 2
