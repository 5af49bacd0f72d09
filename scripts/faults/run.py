"""Fault suites: break a real stack on purpose and prove nothing is lost (issue 9, docs/operations.md).

    .venv/bin/python scripts/faults/run.py kill9 --points 20      # kill -9 a worker at 20 random points
    .venv/bin/python scripts/faults/run.py pg-restart              # restart PostgreSQL mid-job
    .venv/bin/python scripts/faults/run.py disk-full               # ENOSPC during assemble
    .venv/bin/python scripts/faults/run.py admission               # 50 renders, 10 tenants, quota 3

Servers: ``DATABASE_URL`` / ``REDIS_URL`` (each suite makes its own database on that server; the
PostgreSQL restart suite starts a throw-away cluster of its own), else embedded ones. Everything is
loopback. Each suite prints "N runs, N passed, nothing lost" (or what was lost) and exits 0 only when
every run passed; ``--json`` writes the figures. The tests in tests/faults/ call this script with small
N; the figures in the issue notes come from the full runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="suite", required=True)
    k = sub.add_parser("kill9", help="kill -9 workers at random points of renders")
    k.add_argument("--points", type=int, default=20)
    k.add_argument("--renders", type=int, default=2, help="the points are spread over this many renders")
    k.add_argument("--seed", type=int, default=9)
    k.add_argument("--jitter", type=float, default=4.0, help="max seconds into a running stage")
    p = sub.add_parser("pg-restart", help="restart PostgreSQL while a job runs")
    p.add_argument("--down-seconds", type=float, default=6.0)
    d = sub.add_parser("disk-full", help="fill the worker's disk during assemble, then free it and retry")
    d.add_argument("--size-mb", type=int, default=400)
    a = sub.add_parser("admission", help="concurrent renders from many tenants against their concurrency quota")
    a.add_argument("--tenants", type=int, default=10)
    a.add_argument("--quota", type=int, default=3)
    a.add_argument("--renders", type=int, default=50)
    for s in (k, p, d, a):
        s.add_argument("--json", type=Path, default=None)
        s.add_argument("--limit", type=float, default=900.0, help="seconds any single wait may take")
        s.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix=f"recap-fault-{args.suite}-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.suite == "kill9":
        import kill9

        runs, failures, extra = kill9.run(work, args.points, args.renders, args.seed, args.jitter, args.limit)
    elif args.suite == "pg-restart":
        import pg_restart

        runs, failures, extra = pg_restart.run(work, args.down_seconds, args.limit)
    elif args.suite == "admission":
        import admission

        runs, failures, extra = admission.run(work, args.tenants, args.quota, args.renders, args.limit)
    else:
        import disk_full

        runs, failures, extra = disk_full.run(work, args.size_mb, args.limit)
    extra["wall_s"] = round(time.monotonic() - started, 1)
    return report(args.suite, runs, failures, args.json, extra)


if __name__ == "__main__":
    sys.exit(main())
