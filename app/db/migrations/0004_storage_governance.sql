-- Storage governance: durable purges after deletions, personal-data exports, retention policies.

-- Files cannot join a transaction: a deletion writes what to remove here in ITS transaction, removes it
-- right after the commit, and the worker's cron removes it again after ``not_before`` (a stage that was
-- mid-write when its job was deleted) or when the first pass failed. ``tenant_ref`` is no FK (and not
-- named tenant_id: this is no tenant table, maintenance only): a purge outlives an erased tenant.
CREATE TABLE storage_purges (
    id          BIGSERIAL PRIMARY KEY,
    tenant_ref  UUID,
    prefixes    JSONB NOT NULL DEFAULT '[]',
    keys        JSONB NOT NULL DEFAULT '[]',
    not_before  TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_storage_purges_due ON storage_purges (not_before);

-- A personal-data export (GDPR Art. 15/20) is about one person across tenants: keyed by user.
CREATE TABLE data_exports (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state        VARCHAR(16) NOT NULL DEFAULT 'queued',
    storage_key  VARCHAR(1024),
    size_bytes   BIGINT NOT NULL DEFAULT 0,
    error_code   VARCHAR(64),
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
CREATE INDEX idx_data_exports_user ON data_exports (user_id, created_at);

-- Per-tenant retention (days; NULL keeps forever), enforced by the worker's retention cron.
CREATE TABLE retention_policies (
    tenant_id           UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    intermediates_days  INTEGER CHECK (intermediates_days IS NULL OR intermediates_days >= 1),
    outputs_days        INTEGER CHECK (outputs_days IS NULL OR outputs_days >= 1),
    exports_days        INTEGER CHECK (exports_days IS NULL OR exports_days >= 1),
    audit_days          INTEGER CHECK (audit_days IS NULL OR audit_days >= 1),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE retention_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON retention_policies
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
