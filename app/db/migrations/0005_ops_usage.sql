-- Operations: plan tiers (queue priority), per-stage resource usage and cost, tenant budgets, egress.

-- tenants.plan comes from 0002_auth_access (one plan tier decides quota, rates and queue priority).

ALTER TABLE stage_runs
    ADD COLUMN cpu_seconds       DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN wall_seconds      DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN gpu_seconds       DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN peak_memory_bytes BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN bytes_read        BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN bytes_written     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cost              DOUBLE PRECISION NOT NULL DEFAULT 0;

-- A job's sums of its stage runs (every attempt counts: the resources were spent).
ALTER TABLE jobs
    ADD COLUMN cpu_seconds       DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN wall_seconds      DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN gpu_seconds       DOUBLE PRECISION NOT NULL DEFAULT 0,
    ADD COLUMN peak_memory_bytes BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN bytes_read        BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN bytes_written     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cost              DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX idx_jobs_tenant_created ON jobs (tenant_id, created_at);

ALTER TABLE usage_counters ADD COLUMN egress_bytes BIGINT NOT NULL DEFAULT 0;

-- Monthly cost budget of a tenant; alerted_level (0, 80, 100) is the last threshold announced in alerted_period.
CREATE TABLE tenant_budgets (
    tenant_id       UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    monthly_cost    DOUBLE PRECISION NOT NULL CHECK (monthly_cost > 0),
    alerted_period  VARCHAR(7),
    alerted_level   INT NOT NULL DEFAULT 0,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE tenant_budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_budgets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_budgets
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
