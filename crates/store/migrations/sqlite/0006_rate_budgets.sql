-- The rate budget of each vendor account (SQLite dialect). A SQLite workspace has one process,
-- which keeps its budgets in memory; the table is here so that both dialects hold the same
-- tables. See the PostgreSQL dialect's migration for the columns.
CREATE TABLE rate_budgets (
    account         TEXT PRIMARY KEY CHECK (account <> ''),
    tokens          REAL NOT NULL,
    refilled_at     REAL NOT NULL,
    day             INTEGER NOT NULL,
    used_today      INTEGER NOT NULL,
    exhausted_until REAL,
    granted         INTEGER NOT NULL
);
