"""Logging set-up and Sentry, for the API and the workers.

Sentry reports only when ``RECAP_SENTRY_DSN`` is set. Every event carries the release and
environment; a stage's events also carry ``job_id``, ``stage`` and ``tenant_id`` tags (see
``runners.accounting``). ``scrub`` runs as ``before_send``: emails, bearer tokens and JWTs, IP
addresses and any field named like a secret are replaced by ``[Filtered]`` before an event
leaves the process.

    setup_logging("INFO", fmt="json")
    init_sentry(settings, component="worker")
"""

from __future__ import annotations

import ipaddress
import logging
import re
from importlib import metadata
from typing import Any

from app.config import Settings
from app.log_redaction import install_redaction

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FILTERED = "[Filtered]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_SECRET_KEYS = re.compile(r"(?i)(pass(word)?|secret|token|authorization|cookie|session|api[_-]?key|dsn|"
                          r"email|e-mail|ip_address|remote_addr|x-forwarded-for|x-real-ip|signature)")


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """One stream handler on the root logger at ``level``, plain text or JSON lines (idempotent)."""
    from app.logs import JsonFormatter

    root = logging.getLogger()
    root.setLevel(level.upper())
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(LOG_FORMAT)
    ours = [h for h in root.handlers if getattr(h, "_recap", False)]
    if ours:
        ours[0].setFormatter(formatter)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        handler._recap = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # pgserver logs every pg_ctl call with its full output at INFO.
    logging.getLogger("pgserver").setLevel(max(root.level, logging.WARNING))
    install_redaction()


def release(settings: Settings) -> str:
    if settings.observability.release:
        return settings.observability.release
    try:
        return f"recap@{metadata.version('recap')}"
    except metadata.PackageNotFoundError:
        return "recap@unknown"


def scrub(value: Any, key: str = "") -> Any:
    """``value`` with PII and secrets replaced (recursively through dicts, lists and strings)."""
    if key and _SECRET_KEYS.search(key):
        return FILTERED if value not in (None, "", [], {}) else value
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Header lists are [name, value] pairs: judge the value by the name.
        if len(value) == 2 and isinstance(value[0], str) and _SECRET_KEYS.search(value[0]):
            return [value[0], FILTERED]
        return [scrub(v) for v in value]
    if isinstance(value, str):
        for pattern in (_JWT, _BEARER, _EMAIL, _IPV4):
            value = pattern.sub(FILTERED, value)
        return _IPV6_CANDIDATE.sub(_ipv6_or_same, value)
    return value


def _ipv6_or_same(match: re.Match[str]) -> str:
    try:
        ipaddress.IPv6Address(match.group(0))
    except ValueError:
        return match.group(0)  # e.g. a clock time "12:30:45"
    return FILTERED


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry hook: no user identity but its id, no IPs, no emails, no tokens."""
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": str(user["id"])} if user.get("id") else {}
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("env", None)
        request.pop("data", None)  # GraphQL variables may hold passwords and emails
    tags = event.get("tags")
    kept = {k: v for k, v in tags.items() if k in ("job_id", "stage", "tenant_id", "component", "queue")} \
        if isinstance(tags, dict) else {}
    cleaned: dict[str, Any] = scrub(event)
    if kept:
        cleaned["tags"] = {**cleaned.get("tags", {}), **kept}  # ids, never PII: restored after scrubbing
    return cleaned


def init_sentry(settings: Settings, *, component: str = "api", transport: Any = None) -> bool:
    """Initialise Sentry when a DSN is configured; returns whether it was."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.arq import ArqIntegration
    from sentry_sdk.integrations.asyncio import AsyncioIntegration
    from sentry_sdk.integrations.strawberry import StrawberryIntegration

    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(dsn=settings.sentry_dsn, environment=settings.env.value, release=release(settings),
                    send_default_pii=False, traces_sample_rate=0.0, before_send=before_send,  # type: ignore[arg-type]
                    integrations=[StrawberryIntegration(async_execution=True), ArqIntegration(),
                                  AsyncioIntegration()], **options)
    sentry_sdk.set_tag("component", component)
    return True
