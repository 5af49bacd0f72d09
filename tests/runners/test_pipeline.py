"""The stage graph: what runs when, what a re-run resets, and overall progress."""

from __future__ import annotations

import pytest

from app.models import Stage, StageState
from app.pipeline import DEPENDS, ORDER, downstream, is_complete, job_progress, next_stages

P, Q, R, S, K = StageState.PENDING, StageState.QUEUED, StageState.RUNNING, StageState.SUCCEEDED, StageState.SKIPPED


def states(**given: StageState) -> dict[Stage, StageState]:
    out = {stage: P for stage in ORDER}
    out[Stage.UPSCALE] = K
    out.update({Stage(k): v for k, v in given.items()})
    return out


def test_graph_is_acyclic_and_ordered() -> None:
    seen: set[Stage] = set()
    for stage in ORDER:
        assert set(DEPENDS[stage]) <= seen, f"{stage} depends on a later stage"
        seen.add(stage)


@pytest.mark.parametrize(("given", "expected"), [
    ({}, [Stage.INGEST]),
    ({"ingest": S}, [Stage.ANALYSE, Stage.TRANSCRIBE, Stage.SCRIPT]),
    ({"ingest": S, "analyse": S}, [Stage.TRANSCRIBE, Stage.SCRIPT, Stage.MODERATE]),
    ({"ingest": S, "analyse": S, "transcribe": R, "script": S, "moderate": S}, []),
    ({"ingest": S, "analyse": S, "transcribe": S, "script": S, "moderate": S}, [Stage.ALIGN]),
    ({"ingest": S, "analyse": S, "transcribe": S, "script": S, "moderate": S, "align": S}, [Stage.ASSEMBLE]),
    ({"ingest": S, "analyse": S, "transcribe": S, "script": S, "moderate": S, "align": S, "assemble": S},
     [Stage.FINALIZE]),
])
def test_next_stages(given: dict[str, StageState], expected: list[Stage]) -> None:
    assert next_stages(states(**given)) == expected


def test_upscale_when_requested_runs_between_assemble_and_finalize() -> None:
    s = states(ingest=S, analyse=S, transcribe=S, script=S, moderate=S, align=S, assemble=S)
    s[Stage.UPSCALE] = P
    assert next_stages(s) == [Stage.UPSCALE]


def test_complete_and_progress() -> None:
    done = {stage: S for stage in ORDER}
    done[Stage.UPSCALE] = K
    assert is_complete(done)
    assert job_progress(done, {}) == 1.0
    fresh = states()
    assert not is_complete(fresh)
    assert job_progress(fresh, {}) == 0.0
    half = states(ingest=S)
    assert 0.0 < job_progress(half, {Stage.ANALYSE: 0.5}) < 0.2


def test_downstream_of_align_is_everything_after_it() -> None:
    assert downstream(Stage.ALIGN) == {Stage.ASSEMBLE, Stage.UPSCALE, Stage.FINALIZE, Stage.DELIVER}
    assert Stage.ALIGN in downstream(Stage.TRANSCRIBE)
    assert downstream(Stage.DELIVER) == set()
