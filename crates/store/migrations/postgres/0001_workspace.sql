-- The workspace: records, per-stream sync state and the run ledger (PostgreSQL dialect).
-- Timestamps are RFC 3339 UTC text written by the store, so both dialects return them alike.
-- Keys use the "C" collation so that ordering is byte order, as in SQLite and Rust.

CREATE TABLE records (
    connection  TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    data_type   TEXT COLLATE "C" NOT NULL CHECK (data_type <> ''),
    external_id TEXT COLLATE "C" NOT NULL CHECK (external_id <> ''),
    fields      JSONB NOT NULL,
    raw         JSONB NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (connection, data_type, external_id)
);

-- Exports across connections page by external id within a data type.
CREATE INDEX records_by_data_type ON records (data_type, external_id, connection);

CREATE TABLE sync_state (
    connection        TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    data_type         TEXT COLLATE "C" NOT NULL CHECK (data_type <> ''),
    cursor            TEXT,
    checkpoint        JSONB,
    last_success_at   TEXT,
    last_attempt_at   TEXT,
    last_full_sync_at TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (connection, data_type)
);

-- What a connection has learnt about its vendor account (event id, API tier), so later runs
-- need not ask again.
CREATE TABLE connection_facts (
    connection TEXT COLLATE "C" PRIMARY KEY CHECK (connection <> ''),
    facts      JSONB NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection    TEXT COLLATE "C" NOT NULL,
    kind          TEXT NOT NULL,
    data_types    JSONB NOT NULL,
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    counts        JSONB NOT NULL DEFAULT '{}',
    api_calls     BIGINT NOT NULL DEFAULT 0 CHECK (api_calls >= 0),
    cursor_before JSONB NOT NULL,
    cursor_after  JSONB NOT NULL DEFAULT 'null',
    errors        JSONB NOT NULL DEFAULT '[]',
    resets_at     TEXT,
    owner         TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);

CREATE INDEX runs_by_connection ON runs (connection, id);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
