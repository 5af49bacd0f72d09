-- 0002_auth_access: refresh tokens know their tenant (revoked when the member is removed),
-- tenants have a plan tier (it decides the default quota), invitations that the invitee accepts,
-- and the outbox of messages to deliver (invitation tokens; a dev outbox until mail is wired).

-- Named session_tenant_id, not tenant_id: a refresh token belongs to its user (system rows, no RLS).
ALTER TABLE refresh_tokens ADD COLUMN session_tenant_id UUID REFERENCES tenants (id) ON DELETE CASCADE;
CREATE INDEX idx_refresh_tokens_user_tenant ON refresh_tokens (user_id, session_tenant_id);

ALTER TABLE tenants ADD COLUMN plan VARCHAR(32) NOT NULL DEFAULT 'free';

CREATE TABLE invitations (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email           VARCHAR(320) NOT NULL,
    role            VARCHAR(16) NOT NULL,
    token_hash      VARCHAR(64) NOT NULL UNIQUE,
    invited_by_id   UUID REFERENCES users (id) ON DELETE SET NULL,
    accepted_by_id  UUID REFERENCES users (id) ON DELETE SET NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    accepted_at     TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_invitations_tenant_email ON invitations (tenant_id, email);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE TABLE outbox_messages (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    recipient   VARCHAR(320) NOT NULL,
    kind        VARCHAR(64) NOT NULL,
    subject     VARCHAR(200) NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at     TIMESTAMPTZ
);
CREATE INDEX idx_outbox_messages_recipient ON outbox_messages (recipient, created_at);
