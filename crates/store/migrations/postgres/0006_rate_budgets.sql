-- The rate budget of each vendor account, shared by every process on this workspace
-- (PostgreSQL dialect): a per-second leaky bucket (`tokens`, refilled since `refilled_at`) and
-- the count of today's calls, taken one call at a time in one statement with the row locked.
-- Times are the database's clock in Unix seconds, so processes on several hosts agree; `day`
-- is the UTC day (days since 1970-01-01) that `used_today` counts.
--
-- UNLOGGED: every vendor call commits a take, and a logged table would wait for the WAL to reach
-- the disk each time (about 1 ms here, five times the statement). What a crash of the database
-- loses is a count the vendor keeps anyway: the table comes back empty, every bucket full.
-- Standbys do not hold it; after a failover the budgets start afresh the same way.
CREATE UNLOGGED TABLE rate_budgets (
    account         TEXT COLLATE "C" PRIMARY KEY CHECK (account <> ''),
    tokens          DOUBLE PRECISION NOT NULL,
    refilled_at     DOUBLE PRECISION NOT NULL,
    day             BIGINT NOT NULL,
    used_today      BIGINT NOT NULL,
    exhausted_until DOUBLE PRECISION,
    granted         BOOLEAN NOT NULL
);
