"""GraphQL test helpers: GraphQL documents, a two-tenant world with one user per role, typed-result checks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.db import system_tx
from app.models import (
    Asset,
    AssetKind,
    Invitation,
    Job,
    JobState,
    Project,
    Role,
    Stage,
    StageRun,
    StageState,
    Tenant,
    User,
)

Gql = Callable[..., Awaitable[dict[str, Any]]]

AUTH_FIELDS = "accessToken refreshToken tokenType expiresIn tenantId role user { id email displayName }"
ERROR_FIELDS = "... on Error { code message field }"

REGISTER = f"""mutation($email: String!, $password: String!, $displayName: String!, $tenantName: String!) {{
  register(email: $email, password: $password, displayName: $displayName, tenantName: $tenantName) {{
    __typename ... on AuthPayload {{ {AUTH_FIELDS} }} {ERROR_FIELDS} }} }}"""
LOGIN = f"""mutation($email: String!, $password: String!, $tenantId: ID) {{
  login(email: $email, password: $password, tenantId: $tenantId) {{
    __typename ... on AuthPayload {{ {AUTH_FIELDS} }} {ERROR_FIELDS} ... on RateLimitedError {{ retryAfter }} }} }}"""
REFRESH = f"""mutation($token: String!) {{ refreshToken(token: $token) {{
    __typename ... on AuthPayload {{ {AUTH_FIELDS} }} {ERROR_FIELDS} }} }}"""
ME = "{ me { user { id email displayName } tenantId role memberships { tenantId tenantName role } } }"


@dataclass
class Org:
    tenant: Tenant
    users: dict[Role, User] = field(default_factory=dict)
    tokens: dict[Role, str] = field(default_factory=dict)
    project: Project | None = None
    asset: Asset | None = None
    job: Job | None = None
    invitation: Invitation | None = None


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    """``body["data"][name]`` after checking the response has no top-level errors."""
    assert not body.get("errors"), body
    result: dict[str, Any] = body["data"][name]
    return result


def top_code(body: dict[str, Any]) -> str:
    """The ``extensions.code`` of the first top-level error."""
    assert body.get("errors"), body
    return str(body["errors"][0].get("extensions", {}).get("code"))


async def seed_project(tenant: Tenant, creator: User, name: str = "Seeded") -> tuple[Project, Asset, Job]:
    """A project with one asset and one job with two stage runs, written through the system connection."""
    async with system_tx():
        project = await Project.create(tenant_id=tenant.id, name=name, created_by_id=creator.id)
        asset = await Asset.create(tenant_id=tenant.id, project_id=project.id, kind=AssetKind.SOURCE_VIDEO,
                                   filename="movie.mp4", storage_key=f"inputs/{tenant.id}/{project.id}/movie.mp4",
                                   size_bytes=5 * 1024**3)
        job = await Job.create(tenant_id=tenant.id, project_id=project.id, state=JobState.SUCCEEDED, progress=1.0)
        for stage in (Stage.ANALYSE, Stage.INGEST):
            await StageRun.create(tenant_id=tenant.id, job_id=job.id, stage=stage, state=StageState.SUCCEEDED,
                                  attempt=1, progress=1.0, cached=stage is Stage.ANALYSE)
    return project, asset, job


@pytest.fixture
def make_org(tenant_factory: Any, user_factory: Any) -> Callable[[], Awaitable[Org]]:
    """``await make_org()``: a tenant with one user per role and a seeded project/asset/job."""

    async def build() -> Org:
        org = Org(tenant=await tenant_factory())
        for role in Role:
            org.users[role], org.tokens[role] = await user_factory(org.tenant, role)
        org.project, org.asset, org.job = await seed_project(org.tenant, org.users[Role.OWNER])
        async with system_tx():  # a pending invitation (its token is unknown: only the hash is stored)
            org.invitation = await Invitation.create(
                tenant_id=org.tenant.id, email=f"invitee{uuid.uuid4().hex[:8]}@example.com", role=Role.EDITOR,
                token_hash=uuid.uuid4().hex, expires_at=datetime.now(UTC) + timedelta(days=1))
        return org

    return build


def new_email() -> str:
    return f"ann{uuid.uuid4().hex[:10]}@example.com"
