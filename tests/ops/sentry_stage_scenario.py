"""Run in a subprocess by test_ops_sentry: one stage whose work raises, with Sentry on (RECAP_SENTRY_DSN).

    python tests/ops/sentry_stage_scenario.py JOB_ID META_JSON

The stage's implementation is swapped for one that raises an error whose message holds PII
(an email, an IP address, a bearer token): what reaches the sink must have none of it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PII_MESSAGE = ("cannot reach storage for alice@example.com from 203.0.113.7 "
               "with Bearer abcdefghijklmnopqrstuvwxyz0123456789")


class _Exploding:
    async def input_hash(self, sc: Any) -> None:
        return None

    async def run(self, sc: Any, out: Path) -> dict[str, Any]:
        user_email = "alice@example.com"  # noqa: F841 - a local the event's frame variables would carry
        raise RuntimeError(PII_MESSAGE)


async def main(job_id: str, meta: dict[str, Any]) -> int:
    import sentry_sdk

    from app.config import get_settings
    from app.db import close_db, init_db
    from app.observability import init_sentry
    from runners import stages
    from runners.worker import on_shutdown, on_startup, stage_message

    settings = get_settings()
    assert init_sentry(settings, component="worker-cpu")
    stages.get = lambda stage: _Exploding()  # type: ignore[assignment,return-value]
    await init_db(settings)
    ctx: dict[str, Any] = {"settings": settings, "db_ready": True, "queue_name": "recap:queue:cpu"}
    await on_startup(ctx)
    try:
        # The executor records a crash as the stage's failure (STAGE_CRASHED) and reports it to Sentry.
        if await stage_message(ctx, job_id, "ingest", meta) != "failed":
            return 2
    finally:
        await on_shutdown(ctx)
        await close_db()
    sentry_sdk.flush(10)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]))))
