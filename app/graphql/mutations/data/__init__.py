"""Data-governance mutations (deletion of jobs and assets, exports, erasure, retention), one per file.

``schema.py`` merges :data:`DATA_MUTATIONS`.
"""

from app.graphql.mutations.data.delete_asset import DeleteAssetMutation
from app.graphql.mutations.data.delete_job import DeleteJobMutation

DATA_MUTATIONS: tuple[type, ...] = (DeleteJobMutation, DeleteAssetMutation)

__all__ = ["DATA_MUTATIONS"]
