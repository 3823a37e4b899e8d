-- An auto sync interval of 0 means the account plan sets it (the scheduler's `PLANNED`); SQLite
-- changes a CHECK only by building the table again.
CREATE TABLE auto_sync_planned (
    connection       TEXT NOT NULL CHECK (connection <> ''),
    data_type        TEXT NOT NULL CHECK (data_type <> ''),
    enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    interval_seconds INTEGER NOT NULL CHECK (interval_seconds >= 0),
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (connection, data_type)
);
INSERT INTO auto_sync_planned (connection, data_type, enabled, interval_seconds, updated_at)
    SELECT connection, data_type, enabled, interval_seconds, updated_at FROM auto_sync;
DROP TABLE auto_sync;
ALTER TABLE auto_sync_planned RENAME TO auto_sync;
