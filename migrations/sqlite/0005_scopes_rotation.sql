-- Scopes, API key expiry and rotation.
--
-- scope is a space-separated list ("write", "read", "path:/prefix");
-- '' is what every row made before this migration holds and means
-- "write", so nothing that worked stops working. Times are INTEGER
-- microseconds since the Unix epoch; NULL means never (expires_at),
-- not yet (last_used_at) or no rotation (prev_*).
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';

ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_keys ADD COLUMN prev_key_hash TEXT;
ALTER TABLE api_keys ADD COLUMN prev_expires_at INTEGER;

-- A key is looked up by its current or its previous hash, in one query.
CREATE UNIQUE INDEX api_keys_prev_key_hash_idx ON api_keys (prev_key_hash);
-- Token lists: a user's tokens in creation order.
CREATE INDEX tokens_username_created_idx ON tokens (username, created_at, id);
