-- The change feed (SQLite dialect): every change the workspace applies, in the order it was
-- committed, so that destinations and event apps follow the workspace from a position of their
-- own. `before`/`after` hold the changed fields as the records table keeps them (each value with
-- its type tag); a create has every field in `after`, a removal neither. `run_id` names the
-- sync or import that wrote it; a change made over the API has none.
CREATE TABLE change_feed (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    connection  TEXT NOT NULL CHECK (connection <> ''),
    data_type   TEXT NOT NULL CHECK (data_type <> ''),
    external_id TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'cancel', 'remove')),
    before      TEXT,
    after       TEXT,
    run_id      INTEGER,
    at          TEXT NOT NULL
);
CREATE INDEX change_feed_by_type ON change_feed (data_type, position);

-- How far each consumer of the feed has read; moved in the transaction that stores what the
-- consumer made of the changes (its outbox items), so a kill neither loses nor repeats one.
CREATE TABLE feed_checkpoints (
    consumer   TEXT PRIMARY KEY CHECK (consumer <> ''),
    position   INTEGER NOT NULL CHECK (position >= 0),
    updated_at TEXT NOT NULL
);

-- What a destination holds for a workspace record: iMIS has no external ids, so the party a
-- person matched and the activity made for them (its SEQN) are kept here.
CREATE TABLE destination_links (
    destination TEXT NOT NULL CHECK (destination <> ''),
    connection  TEXT NOT NULL CHECK (connection <> ''),
    external_id TEXT NOT NULL CHECK (external_id <> ''),
    party_id    TEXT,
    remote_id   TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (destination, connection, external_id)
);

-- Signed registration links already followed, so a link is used once; kept until it expires.
CREATE TABLE used_links (
    site       TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT NOT NULL,
    PRIMARY KEY (site, nonce)
);

-- The outbox gains `deliver`: bring a destination in line with one workspace record. SQLite
-- changes a CHECK only by building the table again.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    connection      TEXT NOT NULL CHECK (connection <> ''),
    operation       TEXT NOT NULL CHECK (operation IN ('enroll', 'unenroll', 'check_in', 'deliver')),
    session_id      TEXT,
    attendee_id     TEXT NOT NULL CHECK (attendee_id <> ''),
    payload         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'local')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT
);
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_by_session ON outbox (connection, session_id, attendee_id, id);
