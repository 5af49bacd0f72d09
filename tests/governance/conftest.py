"""Fixtures for data governance (export, erasure, retention): the pipeline fixtures of tests/runners."""

from __future__ import annotations

from tests.runners.conftest import (  # noqa: F401  (fixtures re-exported for tests/governance)
    principal_factory,
    project_with_assets,
    run_worker,
    sample_film,
)
