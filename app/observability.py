"""Logging set-up and Sentry (errors only reach Sentry when ``RECAP_SENTRY_DSN`` is set)."""

from __future__ import annotations

import logging

from app.config import Settings
from app.log_redaction import install_redaction

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    """One stream handler on the root logger at ``level`` (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(getattr(h, "_recap", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._recap = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # pgserver logs every pg_ctl call with its full output at INFO.
    logging.getLogger("pgserver").setLevel(max(root.level, logging.WARNING))
    install_redaction()


def init_sentry(settings: Settings) -> bool:
    """Initialise Sentry when a DSN is configured; returns whether it was."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(dsn=settings.sentry_dsn, environment=settings.env.value, send_default_pii=False,
                    traces_sample_rate=0.0)
    return True
