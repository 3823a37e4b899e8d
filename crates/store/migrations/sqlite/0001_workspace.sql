-- The workspace: records, per-stream sync state and the run ledger (SQLite dialect).
-- Timestamps are RFC 3339 UTC text written by the store; JSON columns are text.

CREATE TABLE records (
    connection  TEXT NOT NULL CHECK (connection <> ''),
    data_type   TEXT NOT NULL CHECK (data_type <> ''),
    external_id TEXT NOT NULL CHECK (external_id <> ''),
    fields      TEXT NOT NULL,
    raw         TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (connection, data_type, external_id)
);

-- No second index on (data_type, external_id): every record written would update it at a
-- random place, which costs a sync about a third of its time. Exports of one connection follow
-- the primary key; an export across connections sorts instead.

CREATE TABLE sync_state (
    connection        TEXT NOT NULL CHECK (connection <> ''),
    data_type         TEXT NOT NULL CHECK (data_type <> ''),
    cursor            TEXT,
    checkpoint        TEXT,
    last_success_at   TEXT,
    last_attempt_at   TEXT,
    last_full_sync_at TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (connection, data_type)
);

-- What a connection has learnt about its vendor account (event id, API tier), so later runs
-- need not ask again.
CREATE TABLE connection_facts (
    connection TEXT PRIMARY KEY CHECK (connection <> ''),
    facts      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE runs (
    -- AUTOINCREMENT: a run id is never reused, even after the newest run is deleted.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    data_types    TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    counts        TEXT NOT NULL DEFAULT '{}',
    api_calls     INTEGER NOT NULL DEFAULT 0 CHECK (api_calls >= 0),
    cursor_before TEXT NOT NULL,
    cursor_after  TEXT NOT NULL DEFAULT 'null',
    errors        TEXT NOT NULL DEFAULT '[]',
    resets_at     TEXT,
    owner         TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);

CREATE INDEX runs_by_connection ON runs (connection, id);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
