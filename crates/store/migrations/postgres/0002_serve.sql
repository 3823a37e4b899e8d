-- What `eventsync serve` keeps (PostgreSQL dialect): the outbox of writes to vendors, the inbox
-- of vendor webhooks, API bearer tokens (hashed) and the auto-sync settings per stream. JSON is
-- kept as text here, exactly as the SQLite dialect keeps it: these tables are never queried
-- inside their JSON.

-- A write to a vendor, stored before it is sent. `lease_owner`/`lease_until` mark the worker
-- delivering it; a lease that runs out (its process died) lets another worker take it over.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection      TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    operation       TEXT NOT NULL CHECK (operation IN ('enroll', 'unenroll', 'check_in')),
    session_id      TEXT COLLATE "C",
    attendee_id     TEXT COLLATE "C" NOT NULL CHECK (attendee_id <> ''),
    payload         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'local')),
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_by_session ON outbox (connection, session_id, attendee_id, id);

-- One webhook delivery (an envelope that may hold several messages), de-duplicated by the
-- vendor's message stub, compared case-insensitively.
CREATE TABLE webhook_inbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection    TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    message_stub  TEXT COLLATE "C" NOT NULL CHECK (message_stub <> ''),
    event_type    TEXT NOT NULL,
    message_time  TEXT,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'done', 'ignored', 'failed')),
    attempts      BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_owner   TEXT,
    lease_until   TEXT,
    last_error    TEXT,
    received_at   TEXT NOT NULL,
    processed_at  TEXT,
    UNIQUE (connection, message_stub)
);

CREATE INDEX webhook_inbox_due ON webhook_inbox (status, id) WHERE status IN ('pending', 'processing');

-- API bearer tokens: only a SHA-256 of each is kept.
CREATE TABLE api_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL CHECK (name <> ''),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- Auto sync per stream: on or off, and how often.
CREATE TABLE auto_sync (
    connection       TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    data_type        TEXT COLLATE "C" NOT NULL CHECK (data_type <> ''),
    enabled          BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    interval_seconds BIGINT NOT NULL CHECK (interval_seconds > 0),
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (connection, data_type)
);
