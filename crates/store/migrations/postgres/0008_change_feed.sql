-- The change feed (PostgreSQL dialect): every change the workspace applies, in the order it was
-- committed. Writers take one transaction-scoped advisory lock before they append, so positions
-- are handed out in commit order and a reader never passes a position that commits later.
-- `before`/`after` hold the changed fields as the records table keeps them (each value with its
-- type tag), as text; a create has every field in `after`, a removal neither.
CREATE TABLE change_feed (
    position    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection  TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    data_type   TEXT COLLATE "C" NOT NULL CHECK (data_type <> ''),
    external_id TEXT COLLATE "C" NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'cancel', 'remove')),
    before      TEXT,
    after       TEXT,
    run_id      BIGINT,
    at          TEXT NOT NULL
);
CREATE INDEX change_feed_by_type ON change_feed (data_type, position);

-- How far each consumer of the feed has read; moved in the transaction that stores what the
-- consumer made of the changes.
CREATE TABLE feed_checkpoints (
    consumer   TEXT COLLATE "C" PRIMARY KEY CHECK (consumer <> ''),
    position   BIGINT NOT NULL CHECK (position >= 0),
    updated_at TEXT NOT NULL
);

-- What a destination holds for a workspace record (iMIS: the party matched, the activity's SEQN).
CREATE TABLE destination_links (
    destination TEXT COLLATE "C" NOT NULL CHECK (destination <> ''),
    connection  TEXT COLLATE "C" NOT NULL CHECK (connection <> ''),
    external_id TEXT COLLATE "C" NOT NULL CHECK (external_id <> ''),
    party_id    TEXT,
    remote_id   TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (destination, connection, external_id)
);

-- Signed registration links already followed, so a link is used once; kept until it expires.
CREATE TABLE used_links (
    site       TEXT COLLATE "C" NOT NULL,
    nonce      TEXT COLLATE "C" NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT NOT NULL,
    PRIMARY KEY (site, nonce)
);

ALTER TABLE outbox DROP CONSTRAINT outbox_operation_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_operation_check
    CHECK (operation IN ('enroll', 'unenroll', 'check_in', 'deliver'));
