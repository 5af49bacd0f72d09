"""The render pipeline as data: which stage needs which, and what runs next (shared by the API and runners).

    ready = next_stages({Stage.INGEST: StageState.SUCCEEDED, ...})
"""

from __future__ import annotations

from collections.abc import Mapping

from app.models.enums import Stage, StageState

#: stage -> the stages it needs (ARCHITECTURE.md section 2). analyse and transcribe run in parallel.
DEPENDS: dict[Stage, tuple[Stage, ...]] = {
    Stage.INGEST: (),
    Stage.ANALYSE: (Stage.INGEST,),
    Stage.TRANSCRIBE: (Stage.INGEST,),
    Stage.SCRIPT: (Stage.INGEST,),
    Stage.ALIGN: (Stage.ANALYSE, Stage.TRANSCRIBE, Stage.SCRIPT),
    Stage.MODERATE: (Stage.ANALYSE,),
    Stage.ASSEMBLE: (Stage.ALIGN, Stage.MODERATE),
    Stage.UPSCALE: (Stage.ASSEMBLE,),
    Stage.FINALIZE: (Stage.ASSEMBLE, Stage.UPSCALE),
    Stage.DELIVER: (Stage.FINALIZE,),
}

ORDER: tuple[Stage, ...] = tuple(DEPENDS)
DONE = frozenset({StageState.SUCCEEDED, StageState.SKIPPED})

#: Share of a job's total work per stage, for the job's overall progress.
WEIGHT: dict[Stage, float] = {
    Stage.INGEST: 0.05, Stage.ANALYSE: 0.2, Stage.TRANSCRIBE: 0.2, Stage.SCRIPT: 0.02, Stage.ALIGN: 0.08,
    Stage.MODERATE: 0.02, Stage.ASSEMBLE: 0.25, Stage.UPSCALE: 0.0, Stage.FINALIZE: 0.15, Stage.DELIVER: 0.03,
}


def next_stages(states: Mapping[Stage, StageState]) -> list[Stage]:
    """Stages still pending whose dependencies are all done."""
    return [stage for stage in ORDER
            if states.get(stage) is StageState.PENDING
            and all(states.get(dep) in DONE for dep in DEPENDS[stage])]


def is_complete(states: Mapping[Stage, StageState]) -> bool:
    return all(states.get(stage) in DONE for stage in ORDER if stage in states)


def downstream(stage: Stage) -> set[Stage]:
    """Every stage that (transitively) needs ``stage``: reset them when it re-runs."""
    out: set[Stage] = set()
    frontier = [stage]
    while frontier:
        current = frontier.pop()
        for other, deps in DEPENDS.items():
            if current in deps and other not in out:
                out.add(other)
                frontier.append(other)
    return out


def job_progress(states: Mapping[Stage, StageState], progress: Mapping[Stage, float]) -> float:
    total = sum(WEIGHT[s] for s in states if states[s] is not StageState.SKIPPED) or 1.0
    done = sum(WEIGHT[s] * (1.0 if states[s] in DONE else progress.get(s, 0.0))
               for s in states if states[s] is not StageState.SKIPPED)
    return max(0.0, min(1.0, done / total))
