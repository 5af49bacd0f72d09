"""Review: picking one of a beat's alternatives in an alignment edit (updateAlignment's validation)."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import ValidationError
from app.services.review import _validate


def _base() -> dict[str, Any]:
    return {"version": 1, "sources": [{"id": "s0", "path": "m.mp4", "duration": 100.0}], "beats": [
        {"index": 0, "text": "a", "target_duration": 4.0, "confidence": 0.4, "needs_review": True,
         "clips": [{"source": "s0", "start": 10.0, "end": 14.0, "score": 0.5}],
         "alternatives": [{"clips": [{"source": "s0", "start": 30.0, "end": 34.0, "score": 0.4}], "score": 0.3},
                          {"clips": [{"source": "s0", "start": 50.0, "end": 54.0, "score": 0.3}], "score": 0.2}]},
        {"index": 1, "text": "b", "target_duration": 4.0, "confidence": 0.9,
         "clips": [{"source": "s0", "start": 60.0, "end": 64.0, "score": 0.8}]}]}


def test_picking_an_alternative_swaps_it_with_the_placement() -> None:
    edited = _validate(_base(), [{"index": 0, "clips": None, "alternative": 1}])
    beat = edited["beats"][0]
    assert [(c["start"], c["end"]) for c in beat["clips"]] == [(50.0, 54.0)]
    assert beat["confidence"] == 1.0 and beat["needs_review"] is False
    assert [(c["start"], c["end"]) for c in beat["alternatives"][1]["clips"]] == [(10.0, 14.0)]  # nothing lost
    assert edited["beats"][1] == _base()["beats"][1]


@pytest.mark.parametrize("edit", [
    {"index": 0, "alternative": 2},                         # only two alternatives
    {"index": 0, "alternative": -1},
    {"index": 1, "alternative": 0},                         # a beat without alternatives
    {"index": 0, "alternative": 0, "clips": [{"source": "s0", "start": 1.0, "end": 2.0}]},  # both
])
def test_a_bad_pick_is_refused(edit: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _validate(_base(), [edit])


def test_a_picked_alternative_still_may_not_reuse_footage() -> None:
    base = _base()
    base["beats"][0]["alternatives"][0]["clips"][0].update(start=61.0, end=63.0)
    with pytest.raises(ValidationError, match="never reused"):
        _validate(base, [{"index": 0, "alternative": 0}])
