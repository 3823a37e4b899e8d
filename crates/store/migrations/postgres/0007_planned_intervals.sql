-- An auto sync interval of 0 means the account plan sets it (the scheduler's `PLANNED`).
ALTER TABLE auto_sync DROP CONSTRAINT auto_sync_interval_seconds_check;
ALTER TABLE auto_sync ADD CONSTRAINT auto_sync_interval_seconds_check CHECK (interval_seconds >= 0);
