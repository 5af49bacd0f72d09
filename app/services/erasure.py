"""Erasure (GDPR Art. 17): ``deleteAccount`` (self) and ``deleteTenant`` (owner) remove everything.

Removed: the rows (tenant, memberships, projects, assets, jobs, stage runs, artifacts, uploads, quota
and usage, retention policy, user, refresh tokens, exports), the stored files (inputs, cache,
intermediates, upscale chunks, outputs, exports, upload staging) and the Redis keys naming any of those
ids or the email (login throttles, progress, cancel markers, queued messages, locks, rate limits).
Running jobs are cancelled first. The audit trail keeps a pseudonymised tombstone: every event about
the erased subjects stays, with ids replaced by ``erased:<hmac>`` (keyed by the signing secret, so the
events of one subject still link up), the actor and IP cleared, and the email gone.

    await delete_tenant(principal, settings)            # owners: the whole organisation
    await delete_account(principal, settings, password)  # the caller; tenants only they belong to go too
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.auth.passwords import password_hasher, verify_password
from app.auth.principal import Principal
from app.config import Settings
from app.db import system_tx
from app.errors import AuthError, ConflictError, NotFoundError
from app.models import (
    Artifact,
    Asset,
    DataExport,
    Job,
    Membership,
    Project,
    Role,
    StoragePurge,
    Tenant,
    Upload,
    User,
)
from app.services import deletion
from app.storage import delete_prefix, get_storage

log = logging.getLogger(__name__)


@dataclass
class Subjects:
    """The ids (and emails) an erasure removes; also what the tombstone and the Redis scrub look for."""

    tenant_ids: list[UUID] = field(default_factory=list)
    user_ids: list[UUID] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    other_ids: list[UUID] = field(default_factory=list)

    def needles(self) -> list[str]:
        """Strings that must not survive anywhere: ids, emails and the throttle's hash of each email."""
        ids = [str(i) for i in (*self.tenant_ids, *self.user_ids, *self.other_ids)]
        hashed = [hashlib.sha256(e.strip().casefold().encode()).hexdigest()[:32] for e in self.emails]
        return [*ids, *self.emails, *hashed]


def pseudonym(settings: Settings, value: str) -> str:
    """A stable stand-in for an erased id (HMAC under the signing secret): links events, names no one."""
    digest = hmac.new(settings.signing_secret.encode(), b"recap-erasure-v1:" + value.encode(), hashlib.sha256)
    return "erased:" + digest.hexdigest()[:24]


async def delete_tenant(principal: Principal, settings: Settings) -> UUID:
    """Erase the caller's tenant (owners only) with everything it holds; members keep their accounts."""
    principal.require(Role.OWNER)
    subjects = Subjects(tenant_ids=[principal.tenant_id])
    await _erase(settings, subjects, actor=principal.user_id, action="tenant.erased")
    return principal.tenant_id


async def delete_account(principal: Principal, settings: Settings, password: str) -> UUID:
    """Erase the caller's account; tenants where the caller is the only member are erased with it.

    Raises:
        AuthError: wrong password. ConflictError: the caller is the last owner of a tenant others share.
    """
    async with system_tx() as conn:
        user = await User.filter(id=principal.user_id).using_db(conn).first()
        if user is None:
            raise NotFoundError("account not found")
        ok, _ = await verify_password(password_hasher(settings.auth), user.password_hash, password)
        if not ok:
            raise AuthError("the password is not right", "password")
        subjects = Subjects(user_ids=[user.id], emails=[user.email])
        for membership in await Membership.filter(user_id=user.id).using_db(conn):
            tenant_id = UUID(str(membership.tenant_id))  # type: ignore[attr-defined]
            others = await Membership.filter(tenant_id=tenant_id).exclude(user_id=user.id).using_db(conn)
            if not others:
                subjects.tenant_ids.append(tenant_id)
            elif membership.role is Role.OWNER and not any(m.role is Role.OWNER for m in others):
                raise ConflictError("you are the last owner of a tenant other people use: make someone else "
                                    "owner first", "tenantId")
    await _erase(settings, subjects, actor=None, action="account.erased")
    return principal.user_id


async def _erase(settings: Settings, subjects: Subjects, *, actor: UUID | None, action: str) -> None:
    removal = deletion.Removal(subjects.tenant_ids[0] if subjects.tenant_ids else UUID(int=0))
    async with system_tx() as conn:
        for tenant_id in subjects.tenant_ids:
            await _collect_tenant(conn, tenant_id, subjects, removal)
        exports = await DataExport.filter(user_id__in=subjects.user_ids).using_db(conn)
        subjects.other_ids += [e.id for e in exports]
        removal.prefixes += [f"exports/{u}/" for u in subjects.user_ids]
        subjects.other_ids += [u for u in removal.upload_ids]
        # The tombstone first: deleting the rows would SET NULL the events' tenant and actor, hiding them.
        await _tombstone(conn, settings, subjects, actor=actor, action=action)
        await Tenant.filter(id__in=subjects.tenant_ids).using_db(conn).delete()  # cascades every tenant table
        await User.filter(id__in=subjects.user_ids).using_db(conn).delete()  # memberships, tokens, exports
        if removal.cancelled:  # a stage may write late: the purge cron runs once more after two leases
            purge = await StoragePurge.create(
                tenant_ref=removal.tenant_id, prefixes=removal.prefixes, keys=removal.keys,
                not_before=datetime.now(UTC) + timedelta(seconds=settings.worker.lease_seconds * 2), using_db=conn)
            removal.purge_id = purge.id
    await deletion.apply(removal, settings)
    storage = get_storage(settings)
    try:  # catch-alls: anything below the erased ids that no row pointed at
        for tenant_id in subjects.tenant_ids:
            await delete_prefix(storage, f"inputs/{tenant_id}/")
            await delete_prefix(storage, f"intermediate/{tenant_id}/")
    finally:
        await storage.close()
    from app.redis import get_redis

    await scrub_redis(get_redis(settings), subjects.needles(), keep_cancel=[str(j) for j in removal.cancelled])


async def _collect_tenant(conn: Any, tenant_id: UUID, subjects: Subjects, removal: deletion.Removal) -> None:
    """Plan the removal of every project of ``tenant_id`` and note every id the tenant's rows hold."""
    for project_id in await Project.filter(tenant_id=tenant_id).using_db(conn).values_list("id", flat=True):
        part = await deletion.plan_project(conn, tenant_id, UUID(str(project_id)))
        removal.merge(part)
        subjects.other_ids.append(UUID(str(project_id)))
    subjects.other_ids += removal.job_ids
    for model in (Asset, Artifact, Upload):
        subjects.other_ids += [UUID(str(i)) for i in await model.filter(tenant_id=tenant_id).using_db(conn)
                               .values_list("id", flat=True)]
    jobs = await Job.filter(tenant_id=tenant_id).using_db(conn).values_list("id", flat=True)
    subjects.other_ids += [UUID(str(j)) for j in jobs if UUID(str(j)) not in subjects.other_ids]
    removal.prefixes += [f"intermediate/{tenant_id}/", f"inputs/{tenant_id}/"]


async def _tombstone(conn: Any, settings: Settings, subjects: Subjects, *, actor: UUID | None,
                     action: str) -> None:
    """Rewrite every audit event naming the subjects with pseudonyms; add one event for the erasure itself."""
    needles = subjects.needles()
    replace = {n: pseudonym(settings, n) for n in needles}
    rows = await conn.execute_query_dict(
        "SELECT id, tenant_id::text AS tenant_id, actor_id::text AS actor_id, target_id, data::text AS data "
        "FROM audit_events WHERE tenant_id = ANY($1::uuid[]) OR actor_id = ANY($2::uuid[]) "
        "OR target_id = ANY($3::text[]) OR data::text ~ $4",
        [[str(t) for t in subjects.tenant_ids], [str(u) for u in subjects.user_ids], needles,
         "|".join(_regex_escape(n) for n in needles) or "^$"])
    for row in rows:
        text = row["data"]
        for needle, alias in replace.items():
            text = text.replace(needle, alias)
        await conn.execute_query(
            "UPDATE audit_events SET tenant_id = CASE WHEN tenant_id = ANY($4::uuid[]) THEN NULL ELSE tenant_id END, "
            "actor_id = CASE WHEN actor_id = ANY($5::uuid[]) THEN NULL ELSE actor_id END, ip = NULL, "
            "target_id = $2, data = $3::jsonb WHERE id = $1",
            [row["id"], replace.get(row["target_id"], row["target_id"]), text,
             [str(t) for t in subjects.tenant_ids], [str(u) for u in subjects.user_ids]])
    subject = [replace[str(i)] for i in (*subjects.user_ids, *subjects.tenant_ids)]
    await conn.execute_query(
        "INSERT INTO audit_events (tenant_id, actor_id, action, target_type, target_id, data, created_at) "
        "VALUES (NULL, $1, $2, $3, $4, $5::jsonb, now())",
        [str(actor) if actor and actor not in subjects.user_ids else None, action,
         "tenant" if action == "tenant.erased" else "user", subject[0] if subject else "",
         json.dumps({"subjects": subject, "events_pseudonymised": len(rows)})])


def _regex_escape(text: str) -> str:
    import re

    return re.escape(text)


async def scrub_redis(redis: Any, needles: list[str], *, keep_cancel: list[str] | None = None) -> int:
    """Delete Redis keys whose name or value names any of ``needles``; members of shared sets are removed.

    A full SCAN: erasure is rare and must not depend on knowing every feature's key layout (rate limits,
    locks, throttles, queue messages). Cancel markers of ``keep_cancel`` jobs stay (short-lived, see deletion).
    """
    if not needles:
        return 0
    raw = [n.encode() for n in needles]
    keep = {f"recap:cancel:{j}".encode() for j in keep_cancel or []}
    removed = 0
    async for key in redis.scan_iter(count=1000):
        if key not in keep:
            removed += await _scrub_key(redis, key, raw)
    return removed


async def _scrub_key(redis: Any, key: bytes, raw: list[bytes]) -> int:
    def named(blob: bytes) -> bool:
        return any(n in blob for n in raw)

    if named(key):
        return int(await redis.delete(key))
    kind = (await redis.type(key)).decode()
    if kind == "zset":  # shared sorted sets (queues, windows): only the members that name a subject go
        members = [m for m in await redis.zrange(key, 0, -1) if named(m)]
        return int(await redis.zrem(key, *members)) if members else 0
    if kind == "set":
        members = [m for m in await redis.smembers(key) if named(m)]
        return int(await redis.srem(key, *members)) if members else 0
    if kind == "string":
        value = await redis.get(key)
        hit = value is not None and named(value)
    elif kind == "hash":
        hit = any(named(k) or named(v) for k, v in (await redis.hgetall(key)).items())
    elif kind == "list":
        hit = any(named(v) for v in await redis.lrange(key, 0, -1))
    else:
        hit = False
    return int(await redis.delete(key)) if hit else 0
