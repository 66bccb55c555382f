-- Scopes, API key expiry and rotation.
--
-- scope is a space-separated list ("write", "read", "path:/prefix");
-- '' is what every row made before this migration holds and means
-- "write", so nothing that worked stops working.
ALTER TABLE tokens ADD COLUMN scope text NOT NULL DEFAULT '';

ALTER TABLE api_keys
    ADD COLUMN scope           text NOT NULL DEFAULT '',
    ADD COLUMN expires_at      timestamptz,  -- NULL: never expires
    ADD COLUMN last_used_at    timestamptz,  -- written at most once a minute
    ADD COLUMN prev_key_hash   text,         -- the hash before the last rotation
    ADD COLUMN prev_expires_at timestamptz;  -- when prev_key_hash stops working

-- A key is looked up by its current or its previous hash, in one query.
CREATE UNIQUE INDEX api_keys_prev_key_hash_idx ON api_keys (prev_key_hash);
-- Token lists: a user's tokens in creation order.
CREATE INDEX tokens_username_created_idx ON tokens (username, created_at, id);
