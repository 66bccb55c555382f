-- Tokens and API keys. Only hashes of the secrets are kept.

CREATE TABLE tokens (
    id          text        PRIMARY KEY,
    token_hash  text        NOT NULL UNIQUE,  -- SHA-256 hex of the token
    username    text        NOT NULL,
    groups      text[]      NOT NULL DEFAULT '{}',
    metadata    jsonb       NOT NULL DEFAULT '{}',
    service     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);
CREATE INDEX tokens_username_idx ON tokens (username);

CREATE TABLE api_keys (
    id          text        PRIMARY KEY,
    key_hash    text        NOT NULL UNIQUE,  -- hex(sha512("saltnpepper"+key))
    username    text        NOT NULL,
    metadata    jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true
);

-- ListAPIKeys pages by (created_at, id), optionally for one user.
CREATE INDEX api_keys_username_idx ON api_keys (username, created_at, id);
CREATE INDEX api_keys_created_at_idx ON api_keys (created_at, id);
