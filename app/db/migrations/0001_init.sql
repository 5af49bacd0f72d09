-- 0001_init: every table of app.models, their indexes, and row-level security.
--
-- Generated once from the Tortoise models (tortoise.utils.get_schema_sql) and tidied;
-- tests/app/test_migrations.py fails when a model and this schema drift apart.
-- The app role and its grants are not here: `migrate()` creates them after the files
-- (the role name is configuration, RECAP_DB_APP_ROLE).

CREATE TABLE tenants (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name            VARCHAR(200) NOT NULL,
    slug            VARCHAR(80) NOT NULL UNIQUE,
    webhook_url     VARCHAR(2000),
    webhook_secret  VARCHAR(200),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email              VARCHAR(320) NOT NULL UNIQUE,
    password_hash      VARCHAR(255) NOT NULL,
    display_name       VARCHAR(200) NOT NULL DEFAULT '',
    is_platform_admin  BOOL NOT NULL DEFAULT false,
    is_active          BOOL NOT NULL DEFAULT true,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family      UUID NOT NULL,
    token_hash  VARCHAR(64) NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX idx_refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE memberships (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        VARCHAR(16) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_memberships_tenant_user UNIQUE (tenant_id, user_id)
);
CREATE INDEX idx_memberships_user ON memberships (user_id);

CREATE TABLE quota_policies (
    tenant_id                     UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    concurrent_jobs               INT NOT NULL,
    processing_minutes_per_month  INT NOT NULL,
    storage_bytes                 BIGINT NOT NULL,
    updated_at                    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE usage_counters (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    period              VARCHAR(7) NOT NULL,
    processing_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,
    storage_bytes       BIGINT NOT NULL DEFAULT 0,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_usage_counters_tenant_period UNIQUE (tenant_id, period)
);

CREATE TABLE projects (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           VARCHAR(200) NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    settings       JSONB NOT NULL DEFAULT '{}',
    created_by_id  UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_projects_tenant_created ON projects (tenant_id, created_at);

CREATE TABLE assets (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind          VARCHAR(32) NOT NULL,
    status        VARCHAR(16) NOT NULL DEFAULT 'pending',
    filename      VARCHAR(255) NOT NULL,
    storage_key   VARCHAR(1024) NOT NULL,
    size_bytes    BIGINT NOT NULL DEFAULT 0,
    sha256        VARCHAR(64),
    content_type  VARCHAR(100),
    probe         JSONB,
    error_code    VARCHAR(64),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_assets_project ON assets (project_id);
CREATE INDEX idx_assets_tenant ON assets (tenant_id);

CREATE TABLE jobs (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id      UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_by_id   UUID REFERENCES users (id) ON DELETE SET NULL,
    state           VARCHAR(16) NOT NULL DEFAULT 'queued',
    options         JSONB NOT NULL DEFAULT '{}',
    current_stage   VARCHAR(16),
    progress        DOUBLE PRECISION NOT NULL DEFAULT 0,
    seq             BIGINT NOT NULL DEFAULT 0,
    error_code      VARCHAR(64),
    error_message   TEXT,
    outputs         JSONB NOT NULL DEFAULT '{}',
    source_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_jobs_tenant_state ON jobs (tenant_id, state);
CREATE INDEX idx_jobs_project_created ON jobs (project_id, created_at);

CREATE TABLE artifacts (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stage         VARCHAR(16) NOT NULL,
    content_hash  VARCHAR(64) NOT NULL,
    storage_key   VARCHAR(1024) NOT NULL,
    size_bytes    BIGINT NOT NULL DEFAULT 0,
    meta          JSONB NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_artifacts_tenant_stage_hash UNIQUE (tenant_id, stage, content_hash)
);

CREATE TABLE stage_runs (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_id            UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage             VARCHAR(16) NOT NULL,
    state             VARCHAR(16) NOT NULL DEFAULT 'pending',
    attempt           INT NOT NULL DEFAULT 0,
    lease_expires_at  TIMESTAMPTZ,
    progress          DOUBLE PRECISION NOT NULL DEFAULT 0,
    message           TEXT NOT NULL DEFAULT '',
    error_code        VARCHAR(64),
    error_message     TEXT,
    input_hash        VARCHAR(64),
    artifact_id       UUID REFERENCES artifacts (id) ON DELETE SET NULL,
    cached            BOOL NOT NULL DEFAULT false,
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    CONSTRAINT uq_stage_runs_job_stage UNIQUE (job_id, stage)
);
-- The reconciler scans running stages whose lease expired.
CREATE INDEX idx_stage_runs_state_lease ON stage_runs (state, lease_expires_at);

CREATE TABLE uploads (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       UUID REFERENCES users (id) ON DELETE SET NULL,
    kind          VARCHAR(32) NOT NULL,
    state         VARCHAR(16) NOT NULL DEFAULT 'created',
    filename      VARCHAR(255) NOT NULL,
    length        BIGINT,
    "offset"      BIGINT NOT NULL DEFAULT 0,
    storage_key   VARCHAR(1024) NOT NULL,
    metadata      JSONB NOT NULL DEFAULT '{}',
    error_code    VARCHAR(64),
    asset_id      UUID REFERENCES assets (id) ON DELETE SET NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    completed_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_uploads_project ON uploads (project_id);
CREATE INDEX idx_uploads_expires ON uploads (expires_at);

CREATE TABLE audit_events (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    UUID REFERENCES tenants (id) ON DELETE SET NULL,
    actor_id     UUID REFERENCES users (id) ON DELETE SET NULL,
    action       VARCHAR(64) NOT NULL,
    target_type  VARCHAR(32) NOT NULL DEFAULT '',
    target_id    VARCHAR(64) NOT NULL DEFAULT '',
    data         JSONB NOT NULL DEFAULT '{}',
    ip           VARCHAR(64),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_audit_events_tenant_created ON audit_events (tenant_id, created_at);

-- Row-level security: a tenant table shows and accepts only the rows of the tenant set
-- for the current transaction (`SELECT set_config('app.tenant_id', $1, true)`, i.e. SET LOCAL).
-- Unset (NULL) or reset ('') means no rows. FORCE applies the policy to the table owner too;
-- only superusers and BYPASSRLS roles (the "system" connection) skip it, which is also the
-- only way to write audit_events rows with a NULL tenant_id.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['memberships', 'quota_policies', 'usage_counters', 'projects', 'assets',
                             'jobs', 'stage_runs', 'artifacts', 'uploads', 'audit_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
    END LOOP;
END
$$;
