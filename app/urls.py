"""Absolute URLs the API hands out (tus ``Location``, upload tickets, signed links) are built from
``settings.public_url`` (``RECAP_PUBLIC_URL``), never from the request's ``Host`` header: a forged Host
must not send a client, and its bearer token, elsewhere.

    public_url(settings, f"/uploads/{upload.id}")   # "https://recap.example/uploads/<id>"
"""

from __future__ import annotations

from app.config import Settings


def public_url(settings: Settings, path: str) -> str:
    """``path`` (starting with ``/``) under the deployment's public base URL."""
    if not path.startswith("/"):
        raise ValueError("path must start with '/'")
    return f"{settings.public_url.rstrip('/')}{path}"
