"""The pipeline fixtures of tests/runners (real PostgreSQL, Redis, storage and workers), shared here."""

from tests.runners.conftest import principal_factory, project_with_assets, run_worker

__all__ = ["principal_factory", "project_with_assets", "run_worker"]
