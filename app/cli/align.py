"""CLI commands: align (placeholder until its owner fills it)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``recap`` app."""
    del app
