"""The fault suites of scripts/faults/ on a small scale (the figures in the notes come from full runs).

Each runs as its own process against the session's PostgreSQL server and Redis database, with real
workers, real media and loopback only, and must report every run passed with nothing lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.allow_error_logs]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "faults" / "run.py"


def run_suite(settings: Settings, tmp_path: Path, *args: str, limit_s: float = 1500) -> dict[str, object]:
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECAP_")}
    env.update({"DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or ""})
    done = subprocess.run([sys.executable, str(SCRIPT), *args, "--json", str(out), "--work", str(tmp_path / "w"),
                           "--limit", "600"], env=env, capture_output=True, text=True, timeout=limit_s)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_kill_9_at_random_points_loses_nothing(settings: Settings, tmp_path: Path) -> None:
    result = run_suite(settings, tmp_path, "kill9", "--points", "3", "--renders", "1", "--seed", "3")
    assert result["failures"] == [] and result["runs"] == result["passed"]
    assert isinstance(result["runs"], int) and result["runs"] >= 1  # at least one kill landed inside a stage


def test_postgres_restart_mid_job_is_reported_then_recovered(settings: Settings, tmp_path: Path) -> None:
    result = run_suite(settings, tmp_path, "pg-restart", "--down-seconds", "4")
    assert result["failures"] == [] and result["runs"] == 1


def test_a_full_disk_during_assemble_fails_cleanly_and_retries(settings: Settings, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = run_suite(settings, tmp_path, "disk-full", "--size-mb", "300")
    assert result["failures"] == [] and result["runs"] == 1
