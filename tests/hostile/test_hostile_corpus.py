"""The hostile corpus, table-driven: every case gets a stable code within CASE_TIMEOUT_S, the server
still answers afterwards, and nothing of any tenant changes (the attacker's own refused upload aside).
The cases and their count are listed in docs/security.md."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from app.models import Role
from tests.hostile import cases_files, cases_graphql, cases_tenancy, cases_tus
from tests.hostile.conftest import snapshot
from tests.hostile.corpus import CASE_TIMEOUT_S, Case, Ctx

ALL: list[Case] = [*cases_graphql.MALFORMED, *cases_graphql.DOCUMENTS, *cases_graphql.TYPES, *cases_graphql.UNICODE,
                   *cases_tenancy.CASES, *cases_tus.CASES, *cases_files.CASES]


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=False, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


def test_the_corpus_is_big_and_unambiguous() -> None:
    ids = Counter(case.id for case in ALL)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids"
    assert len(ALL) >= 150, len(ALL)
    assert {case.area for case in ALL} >= {"graphql", "tenancy", "tus", "media", "script", "names"}


@pytest.mark.parametrize("case", [_param(case) for case in ALL])
async def test_hostile_input(hostile: Ctx, case: Case) -> None:
    tenants = [hostile.a.tenant.id, hostile.b.tenant.id]
    skip = {hostile.a.tenant.id: case.changes}
    before = await snapshot(tenants, skip)
    code = await asyncio.wait_for(case.run(hostile), CASE_TIMEOUT_S)
    assert code in case.expect, f"{case.id}: got {code}, expected one of {case.expect}"
    # The server is up and serves a trivial query for the attacker and the victim.
    health = await hostile.http.get("/healthz")
    assert health.status_code == 200
    for org in (hostile.a, hostile.b):
        assert await hostile.gql("{ me { tenantId } }", token=org.tokens[Role.VIEWER]) == "OK"
    assert await snapshot(tenants, skip) == before, f"{case.id} changed a tenant's rows"
