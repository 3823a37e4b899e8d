-- API token scopes, unique token names, and cancelling a run.
--
-- A token may read the workspace (`read`), also register people to sessions and check them in
-- (`write`), or do everything (`admin`). Tokens made before scopes existed keep doing what they
-- did: they become `admin`.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'
    CHECK (scope IN ('read', 'write', 'admin'));

-- A live token's name says which one to revoke, so no two live tokens share one. Names given
-- twice before this rule are told apart by their id.
UPDATE api_tokens SET name = name || ' #' || id
WHERE revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM api_tokens AS older
              WHERE older.name = api_tokens.name AND older.revoked_at IS NULL
                AND older.id < api_tokens.id);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Set when someone asks a running run to stop; the run looks at it between pages, wherever it
-- runs, and ends `cancelled`.
ALTER TABLE runs ADD COLUMN cancel_requested_at TEXT;
