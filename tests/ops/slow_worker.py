"""A real ``recap worker`` process whose ingest stage is slow (run by test_ops_sigterm).

    python tests/ops/slow_worker.py SECONDS

The ingest stage's implementation is swapped for one that works for SECONDS in a media thread
(checking its cancel flag like real media code), so a test can send SIGTERM mid-stage.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


class _Slow:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def input_hash(self, sc: Any) -> None:
        return None

    async def run(self, sc: Any, out: Path) -> dict[str, Any]:
        from media.errors import CancelledError

        # Tell the test the media work has begun (a SIGTERM before the executor's try block is another case).
        (Path(sc.settings.data_dir) / f"slow-started-{sc.job_id}").touch()

        def work() -> None:
            end = time.monotonic() + self.seconds
            while time.monotonic() < end:
                if sc.cancelled():
                    raise CancelledError("stopped")
                time.sleep(0.02)

        await sc.in_thread(work)
        (out / "done.txt").write_text("ok")
        return {"slow": True}


def main() -> None:
    from app.config import get_settings
    from app.queue import CPU_QUEUE
    from runners import stages
    from runners.worker import run_supervised

    slow = _Slow(float(sys.argv[1]))
    stages.get = lambda stage: slow  # type: ignore[assignment,return-value]
    run_supervised(get_settings(), queue=CPU_QUEUE)


if __name__ == "__main__":
    main()
