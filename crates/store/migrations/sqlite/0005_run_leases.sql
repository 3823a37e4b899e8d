-- Which run holds each connection (SQLite dialect): at most one preview or sync per connection
-- at a time, across processes. A holder renews `expires_at` while its run goes on; a lease that
-- runs out (its process died or stalled) may be taken over, and the run it names is then marked
-- interrupted. `run_id` is set in the transaction that records the run.
CREATE TABLE run_leases (
    connection TEXT PRIMARY KEY CHECK (connection <> ''),
    token      TEXT NOT NULL,
    holder     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    run_id     INTEGER,
    taken_at   TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
