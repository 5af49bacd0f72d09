"""Data-governance mutations (deletion of jobs and assets, exports, erasure, retention), one per file.

``schema.py`` merges :data:`DATA_MUTATIONS` (and ``queries/governance.py``).
"""

from app.graphql.mutations.data.delete_account import DeleteAccountMutation
from app.graphql.mutations.data.delete_asset import DeleteAssetMutation
from app.graphql.mutations.data.delete_job import DeleteJobMutation
from app.graphql.mutations.data.delete_tenant import DeleteTenantMutation
from app.graphql.mutations.data.request_data_export import RequestDataExportMutation
from app.graphql.mutations.data.set_retention_policy import SetRetentionPolicyMutation

DATA_MUTATIONS: tuple[type, ...] = (DeleteJobMutation, DeleteAssetMutation, RequestDataExportMutation,
                                    DeleteAccountMutation, DeleteTenantMutation, SetRetentionPolicyMutation)

__all__ = ["DATA_MUTATIONS"]
