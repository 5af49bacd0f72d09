"""Quota reads (defaults, policy, active jobs, this month's minutes, storage) and the storage limit on create."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.db import system_tx
from app.models import Job, JobState, Project, QuotaPolicy, Role, UsageCounter
from app.services.quota import current_period
from tests.graphql.conftest import Gql, payload

QUOTA = """{ quota { tenantId period isDefault
  limits { concurrentJobs processingMinutesPerMonth storageBytes }
  usage { concurrentJobs processingMinutes storageBytes } } }"""


async def test_defaults_then_usage_then_policy(gql: Gql, tenant_factory: Any, user_factory: Any,
                                               settings: Any) -> None:
    tenant = await tenant_factory()
    _, token = await user_factory(tenant, Role.VIEWER)
    fresh = payload(await gql(QUOTA, token=token), "quota")
    assert fresh == {"tenantId": str(tenant.id), "period": datetime.now(UTC).strftime("%Y-%m"), "isDefault": True,
                     "limits": {"concurrentJobs": settings.quota.concurrent_jobs,
                                "processingMinutesPerMonth": settings.quota.processing_minutes_per_month,
                                "storageBytes": settings.quota.storage_bytes},
                     "usage": {"concurrentJobs": 0, "processingMinutes": 0.0, "storageBytes": 0}}
    async with system_tx():
        project = await Project.create(tenant_id=tenant.id, name="p")
        for state in (JobState.QUEUED, JobState.RUNNING, JobState.WAITING_REVIEW, JobState.SUCCEEDED,
                      JobState.FAILED, JobState.CANCELLED):
            await Job.create(tenant_id=tenant.id, project_id=project.id, state=state)
        await UsageCounter.create(tenant_id=tenant.id, period=current_period(), processing_seconds=1530.0)
        await UsageCounter.create(tenant_id=tenant.id, period="2000-01", processing_seconds=99999.0)
        await UsageCounter.create(tenant_id=tenant.id, period="total", storage_bytes=7 * 1024**3)
        await QuotaPolicy.create(tenant_id=tenant.id, concurrent_jobs=4, processing_minutes_per_month=100,
                                 storage_bytes=8 * 1024**3)
    used = payload(await gql(QUOTA, token=token), "quota")
    assert used["isDefault"] is False
    assert used["limits"] == {"concurrentJobs": 4, "processingMinutesPerMonth": 100, "storageBytes": 8 * 1024**3}
    assert used["usage"] == {"concurrentJobs": 3, "processingMinutes": 25.5, "storageBytes": 7 * 1024**3}


async def test_create_project_refused_when_storage_is_used_up(gql: Gql, tenant_factory: Any,
                                                              user_factory: Any) -> None:
    tenant = await tenant_factory()
    _, token = await user_factory(tenant, Role.EDITOR)
    async with system_tx():
        await QuotaPolicy.create(tenant_id=tenant.id, concurrent_jobs=1, processing_minutes_per_month=1,
                                 storage_bytes=1000)
        await UsageCounter.create(tenant_id=tenant.id, period="total", storage_bytes=1000)
    body = await gql('mutation { createProject(input: {name: "x"}) { __typename ... on Error { code field } } }',
                     token=token)
    assert payload(body, "createProject") == {"__typename": "QuotaExceededError", "code": "QUOTA_EXCEEDED",
                                              "field": "storage"}
    async with system_tx():
        assert await Project.filter(tenant_id=tenant.id).count() == 0


async def test_set_quota_policy_validates_and_updates(gql: Gql, tenant_factory: Any, user_factory: Any) -> None:
    tenant = await tenant_factory()
    _, token = await user_factory(await tenant_factory(), Role.VIEWER, is_platform_admin=True)
    mutation = """mutation($i: SetQuotaPolicyInput!) { setQuotaPolicy(input: $i) { __typename
      ... on Error { code field } ... on QuotaPayload { quota { limits { concurrentJobs storageBytes } } } } }"""
    base = {"tenantId": str(tenant.id), "concurrentJobs": 2, "processingMinutesPerMonth": 10, "storageBytes": "5"}
    bad = payload(await gql(mutation, {"i": {**base, "concurrentJobs": -1}}, token=token), "setQuotaPolicy")
    assert bad == {"__typename": "ValidationError", "code": "VALIDATION_FAILED", "field": "concurrentJobs"}
    for storage in ("5", "6000000000"):
        ok = payload(await gql(mutation, {"i": {**base, "storageBytes": storage}}, token=token), "setQuotaPolicy")
        assert ok["quota"]["limits"] == {"concurrentJobs": 2, "storageBytes": int(storage)}
    async with system_tx():
        assert await QuotaPolicy.filter(tenant_id=tenant.id).count() == 1
    huge = await gql(mutation, {"i": {**base, "storageBytes": "1e99"}}, token=token)
    assert huge["errors"] and huge["data"] is None
