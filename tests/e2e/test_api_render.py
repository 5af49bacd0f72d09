"""Renders through the public API only (the SDK: GraphQL, tus, graphql-transport-ws, signed
downloads) against a real API server, PostgreSQL, Redis and an in-process ARQ worker.

- the Sintel trailer with a short recap script, rendered end to end and downloaded;
- the dev alignment case: stopped for review after align, scored with ../shared/eval, edited
  (valid and invalid edits), then cancelled.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import av
import pytest

from app.config import Settings
from app.sdk import RecapClient
from tests.e2e.conftest import SHARED, check_gapless, follow, shared_file

PASSWORD = "Correct-Horse-Battery-42"

SINTEL_SCRIPT = """# Sintel

A lone young woman struggles through a blizzard in the mountains until an old keeper takes her in and asks what
brings her to the land of the gatekeepers. She tells him she is searching for someone.

Someone very dear, he guesses, a kindred spirit? A dragon, she answers, and we see the tiny dragon she once
rescued, nursed and raised, until the day a great beast carried it away.

Her quest takes her across deserts, markets and frozen peaks, sword in hand, towards a final battle with a giant
dragon high among the rocks.
"""

DOWNLOADS = "query($j:ID!){job(id:$j){...on Job{state downloads{name url size}}}}"
ALIGNMENT = ("query($j:ID!){alignment(jobId:$j){__typename ...on AlignmentPayload{jobId edited alignment}"
             " ...on Error{code message field}}}")
UPDATE = ("mutation($j:ID!,$b:[BeatEditInput!]!){updateAlignment(jobId:$j,beats:$b){__typename "
          "...on AlignmentPayload{edited alignment} ...on Error{code message field}}}")
APPROVE = ("mutation($j:ID!){approveAlignment(jobId:$j){__typename ...on JobPayload{job{id state}}"
           " ...on Error{code message field}}}")
CANCEL = ("mutation($j:ID!){cancelJob(jobId:$j){__typename ...on JobPayload{job{id state}}"
          " ...on Error{code message field}}}")


async def new_account(api: RecapClient) -> None:
    tag = uuid.uuid4().hex[:8]
    await api.register(f"e2e-{tag}@example.com", PASSWORD, f"E2E {tag}")


def decode_counts(path: Path) -> tuple[int, int, float]:
    """(video frames, audio frames, seconds) decoded end to end."""
    with av.open(str(path)) as c:
        assert c.streams.video and c.streams.audio, "final.mp4 needs video and audio"
        duration = float(c.duration or 0) / av.time_base
        video = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        audio = sum(1 for _ in c.decode(audio=0))
    return video, audio, duration


_TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})$")


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """A strict SRT reader: numbered blocks from 1, HH:MM:SS,mmm timings, non-empty text."""
    cues = []
    blocks = [b for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip("\ufeff\n ")) if b.strip()]
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        assert lines[0].strip() == str(number), f"cue {number} is numbered {lines[0]!r}"
        match = _TIMING.match(lines[1].strip())
        assert match, f"cue {number}: bad timing line {lines[1]!r}"
        h1, m1, s1, f1, h2, m2, s2, f2 = (int(g) for g in match.groups())
        start, end = h1 * 3600 + m1 * 60 + s1 + f1 / 1000, h2 * 3600 + m2 * 60 + s2 + f2 / 1000
        text_lines = [ln for ln in lines[2:] if ln.strip()]
        assert start < end and text_lines, f"cue {number}: empty or reversed"
        cues.append((start, end, " ".join(text_lines)))
    return cues


@pytest.mark.slow
async def test_sintel_trailer_end_to_end_through_the_api(settings: Settings, api_server: Any, run_worker: Any,
                                                         tmp_path: Path) -> None:
    trailer = shared_file("media", "sintel_trailer_480x204.mp4")
    script = tmp_path / "sintel_recap.md"
    script.write_text(SINTEL_SCRIPT, encoding="utf-8")
    async with api_server(settings) as url, RecapClient(url, timeout=120) as api:
        await new_account(api)
        project = await api.create_project("Sintel trailer recap")
        await api.upload_asset(project["id"], trailer, "SOURCE_VIDEO", chunk_size=512 * 1024)
        await api.upload_asset(project["id"], script, "SCRIPT")
        job = await api.start_render(project["id"], {"profile": "source"})
        assert job["state"] == "QUEUED"
        following = asyncio.create_task(follow(api, job["id"], 280))
        await asyncio.sleep(0.5)  # the subscriber holds its snapshot before the work starts
        await run_worker(limit_s=280)
        events = await asyncio.wait_for(following, 60)
        done = await api.job(job["id"])
        assert done["state"] == "SUCCEEDED", (done["errorCode"], done["errorMessage"])
        links = {d["name"]: d for d in (await api.graphql(DOWNLOADS, {"j": job["id"]}))["job"]["downloads"]}
        assert {"final.mp4", "captions.srt"} <= set(links), sorted(links)
        final = await api.download(links["final.mp4"]["url"], tmp_path / "out" / "final.mp4")
        captions = await api.download(links["captions.srt"]["url"], tmp_path / "out" / "captions.srt")

    live, inversions = check_gapless(events)
    assert events[0]["state"] in ("queued", "running")
    stages_seen = {e["stage"] for e in events[1:] if e["kind"] == "stage" and e["state"] == "succeeded"}
    assert stages_seen >= {"ingest", "analyse", "transcribe", "script", "align", "assemble", "finalize", "deliver"}
    assert final.stat().st_size == links["final.mp4"]["size"]
    assert captions.stat().st_size == links["captions.srt"]["size"]
    video, audio, seconds = decode_counts(final)
    assert seconds > 5 and video >= int(seconds * 20) and audio > 0, (video, audio, seconds)
    cues = parse_srt(captions.read_text(encoding="utf-8"))
    assert len(cues) >= 3
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(cues))
    assert cues[-1][1] <= seconds + 0.5
    words = " ".join(c[2] for c in cues).lower()
    assert "dragon" in words and "gatekeepers" in words
    print(f"\nSintel: {live} live events ({inversions} out of order), final.mp4 {seconds:.1f} s, {video} video / "
          f"{audio} audio frames, {len(cues)} cues")


def score(truth: Path, alignment: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "alignment.json"
    path.write_text(json.dumps(alignment))
    run = subprocess.run([sys.executable, str(SHARED / "eval" / "score_alignment.py"), str(truth), str(path),
                          "--json"], capture_output=True, text=True, check=True, timeout=60)
    metrics: dict[str, Any] = json.loads(run.stdout)["system"]
    return metrics


async def typed(api: RecapClient, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
    result: dict[str, Any] = (await api.graphql(query, variables))[field]
    return result


@pytest.mark.slow
async def test_dev_case_review_edit_and_cancel_through_the_api(settings: Settings, api_server: Any,
                                                               run_worker: Any, tmp_path: Path) -> None:
    movie = shared_file("eval", "dev", "dev_movie.mp4")
    script, truth = shared_file("eval", "dev", "dev_script.md"), shared_file("eval", "dev", "dev_truth.json")
    async with api_server(settings) as url, RecapClient(url, timeout=120) as api:
        await new_account(api)
        project = await api.create_project("Dev case")
        await api.upload_asset(project["id"], movie, "SOURCE_VIDEO")
        await api.upload_asset(project["id"], script, "SCRIPT")
        job = await api.start_render(project["id"], {"profile": "source", "review": True})
        job_id = job["id"]
        following = asyncio.create_task(follow(api, job_id, 290, until=frozenset({"waiting_review", "failed",
                                                                                   "cancelled", "succeeded"})))
        await asyncio.sleep(0.5)
        await run_worker(limit_s=290)  # burst: the queue empties when the job waits for review
        events = await asyncio.wait_for(following, 60)
        waiting = await api.job(job_id)
        assert waiting["state"] == "WAITING_REVIEW", (waiting["errorCode"], waiting["errorMessage"])
        assert events[-1]["state"] == "waiting_review"
        stages = {s["stage"].lower(): s["state"].lower() for s in waiting["stages"]}
        assert stages["align"] == "succeeded" and stages["assemble"] == "pending", stages

        got = await typed(api, ALIGNMENT, {"j": job_id}, "alignment")
        assert got["__typename"] == "AlignmentPayload" and got["edited"] is False, got
        alignment = got["alignment"]
        metrics = score(truth, alignment, tmp_path)
        print(f"\ndev case through the API: {json.dumps(metrics, sort_keys=True)}")
        assert metrics["beat_accuracy"] >= 0.8 and metrics["order_violations"] == 0, metrics

        await check_edits(api, job_id, alignment)

        cancelled = await typed(api, CANCEL, {"j": job_id}, "cancelJob")
        assert cancelled["__typename"] == "JobPayload" and cancelled["job"]["state"] == "CANCELLED", cancelled
        for query, name in ((APPROVE, "approveAlignment"), (CANCEL, "cancelJob")):
            refused = await typed(api, query, {"j": job_id}, name)
            assert refused["__typename"] == "ConflictError" and refused["code"] == "CONFLICT", refused
        late = await typed(api, UPDATE, {"j": job_id, "b": [{"index": 0, "clips": []}]}, "updateAlignment")
        assert late["__typename"] == "ConflictError", late
        final = await api.job(job_id)
        assert final["state"] == "CANCELLED"
        assert {s["stage"].lower(): s["state"].lower() for s in final["stages"]}["assemble"] == "cancelled"


async def check_edits(api: RecapClient, job_id: str, alignment: dict[str, Any]) -> None:
    """A valid edit is stored and read back; overlapping, out-of-range and unknown edits are typed errors."""
    source = alignment["sources"][0]
    beats = [b for b in alignment["beats"] if b["clips"]]
    first, second = beats[0], beats[1]
    clip = first["clips"][0]
    half = {"source": clip["source"], "start": clip["start"], "end": round((clip["start"] + clip["end"]) / 2, 3)}
    edited = await typed(api, UPDATE, {"j": job_id, "b": [{"index": first["index"], "clips": [half]}]},
                         "updateAlignment")
    assert edited["__typename"] == "AlignmentPayload" and edited["edited"] is True, edited
    again = await typed(api, ALIGNMENT, {"j": job_id}, "alignment")
    assert again["edited"] is True
    stored = {b["index"]: b for b in again["alignment"]["beats"]}
    assert [(c["start"], c["end"]) for c in stored[first["index"]]["clips"]] == [(half["start"], half["end"])]
    assert stored[second["index"]]["clips"] == second["clips"]  # untouched beats keep their clips

    a, b = half["start"], half["end"]
    mid = round((a + b) / 2, 3)
    invalid = [
        [{"index": first["index"], "clips": [{"source": source["id"], "start": a, "end": b},
                                             {"source": source["id"], "start": mid, "end": b + 1.0}]}],  # overlap
        [{"index": first["index"], "clips": [{"source": source["id"], "start": a, "end": mid}]},
         {"index": second["index"], "clips": [{"source": source["id"], "start": a, "end": b}]}],  # two beats, same
        [{"index": first["index"], "clips": [dict(second["clips"][0])]}],          # another beat's footage
        [{"index": first["index"], "clips": [{"source": source["id"], "start": source["duration"] - 1.0,
                                             "end": source["duration"] + 5.0}]}],                   # past the end
        [{"index": first["index"], "clips": [{"source": source["id"], "start": 3.0, "end": 2.0}]}],  # reversed
        [{"index": first["index"], "clips": [{"source": "nope", "start": 1.0, "end": 2.0}]}],       # unknown source
        [{"index": 10_000, "clips": []}],                                                            # unknown beat
    ]
    for beats_edit in invalid:
        refused = await typed(api, UPDATE, {"j": job_id, "b": beats_edit}, "updateAlignment")
        assert refused["__typename"] == "ValidationError", (beats_edit, refused)
        assert refused["code"] == "VALIDATION_FAILED" and refused["field"] == "beats", refused
    unchanged = await typed(api, ALIGNMENT, {"j": job_id}, "alignment")
    assert unchanged["alignment"] == again["alignment"]  # a refused edit changes nothing


# --- the edit rules on a small hand-made alignment (fast; no media work) ---------------------------

BASE_ALIGNMENT: dict[str, Any] = {"version": 1, "sources": [{"id": "s0", "path": "movie.mp4", "duration": 60.0}],
                  "beats": [{"index": 0, "text": "first", "target_duration": 5.0, "confidence": 0.8,
                             "clips": [{"source": "s0", "start": 10.0, "end": 15.0, "score": 0.7}]},
                            {"index": 1, "text": "second", "target_duration": 5.0, "confidence": 0.8,
                             "clips": [{"source": "s0", "start": 30.0, "end": 35.0, "score": 0.7}]}]}

GQL_UPDATE = ("mutation($j:ID!,$b:[BeatEditInput!]!){updateAlignment(jobId:$j,beats:$b){__typename "
              "...on AlignmentPayload{edited alignment} ...on Error{code message field}}}")


@pytest.mark.parametrize(("clips", "accepted"), [
    pytest.param([(40.0, 45.0)], True, id="free-footage"),
    pytest.param([(10.0, 12.0), (12.0, 14.0)], True, id="touching-clips"),
    pytest.param([(10.0, 13.0), (12.0, 14.0)], False, id="overlap-within-the-edit"),
    pytest.param([(58.0, 61.0)], False, id="past-the-end"),
    pytest.param([(31.0, 33.0)], False, id="reuses-beat-1-footage"),
    pytest.param([(14.0, 31.0)], False, id="overlaps-beat-1-footage"),
])
async def test_update_alignment_rules(gql: Any, principal_factory: Any, project_with_assets: Any,
                                      clips: list[tuple[float, float]], accepted: bool) -> None:
    from app.db import system_tx
    from app.models import Job, JobState

    principal, token = await principal_factory()
    project = await project_with_assets(principal, [])
    async with system_tx():
        job = await Job.create(tenant_id=principal.tenant_id, project_id=project.id, state=JobState.WAITING_REVIEW,
                               options={"review": True, "alignment_edit": BASE_ALIGNMENT})
    edit = [{"index": 0, "clips": [{"source": "s0", "start": a, "end": b} for a, b in clips]}]
    body = await gql(GQL_UPDATE, {"j": str(job.id), "b": edit}, token=token)
    result = body["data"]["updateAlignment"]
    if accepted:
        assert result["__typename"] == "AlignmentPayload", result
        assert [(c["start"], c["end"]) for c in result["alignment"]["beats"][0]["clips"]] == clips
        assert result["alignment"]["beats"][1] == BASE_ALIGNMENT["beats"][1]
    else:
        assert result["__typename"] == "ValidationError", result
        assert result["code"] == "VALIDATION_FAILED" and result["field"] == "beats", result
