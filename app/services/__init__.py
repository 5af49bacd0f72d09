"""Service layer: every function takes the caller's Principal first and scopes by its tenant.

Tenant-table queries run inside ``app.db.tenant_tx(principal.tenant_id)`` (row-level security is the
second wall); another tenant's id raises NotFoundError, never PermissionDeniedError.
"""
