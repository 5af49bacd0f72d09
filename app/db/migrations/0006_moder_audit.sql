-- Audit trail (docs/compliance.md#audit-trail): the user agent beside the IP, and append-only rows
-- for the app role. The check runs AFTER the row change, so row-level security still answers first
-- for rows of another tenant. Roles that bypass RLS (the system connection: retention, erasure with
-- a pseudonymised tombstone) may still update and delete; so may the foreign keys' ON DELETE SET NULL.
ALTER TABLE audit_events ADD COLUMN user_agent VARCHAR(256);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;
    END IF;
    -- Nulling a reference is allowed only once the referenced row is gone (the cascade).
    IF TG_OP = 'UPDATE'
       AND (NEW.tenant_id IS NOT DISTINCT FROM OLD.tenant_id
            OR (NEW.tenant_id IS NULL AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id)))
       AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
            OR (NEW.actor_id IS NULL AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.actor_id)))
       AND (NEW.tenant_id IS DISTINCT FROM OLD.tenant_id OR NEW.actor_id IS DISTINCT FROM OLD.actor_id)
       AND (NEW.id, NEW.action, NEW.target_type, NEW.target_id, NEW.data, NEW.ip, NEW.user_agent, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.action, OLD.target_type, OLD.target_id, OLD.data, OLD.ip, OLD.user_agent, OLD.created_at) THEN
        RETURN NULL;  -- a referenced tenant or user was deleted (ON DELETE SET NULL)
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_append_only AFTER UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
