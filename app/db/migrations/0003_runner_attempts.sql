-- Attempts before the current run of a stage: retryJob starts a fresh budget of
-- RECAP_WORKER__MAX_ATTEMPTS without reusing attempt numbers (ARQ message ids are {job}:{stage}:{attempt}).
ALTER TABLE stage_runs ADD COLUMN attempts_before INT NOT NULL DEFAULT 0;
