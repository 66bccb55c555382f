-- Tokens and API keys. Only hashes of the secrets are kept.
-- Times are INTEGER microseconds since the Unix epoch (UTC); groups and
-- metadata are JSON text; booleans are 0 or 1.

CREATE TABLE tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,  -- SHA-256 hex of the token
    username    TEXT    NOT NULL,
    groups      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(groups)),
    metadata    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    service     INTEGER NOT NULL DEFAULT 0 CHECK (service IN (0, 1)),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);
CREATE INDEX tokens_username_idx ON tokens (username);

CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    key_hash    TEXT    NOT NULL UNIQUE,  -- hex(sha512("saltnpepper"+key))
    username    TEXT    NOT NULL,
    metadata    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at  INTEGER NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))
) STRICT;

-- ListAPIKeys pages by (created_at, id), optionally for one user.
CREATE INDEX api_keys_username_idx ON api_keys (username, created_at, id);
CREATE INDEX api_keys_created_at_idx ON api_keys (created_at, id);
