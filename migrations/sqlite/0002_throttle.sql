-- Failed attempts behind login throttling and token-scanning limits: one
-- row per failure, so a window is exact. Keys are hashes, never names.
CREATE TABLE throttle_failures (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL  -- microseconds since the epoch, UTC
) STRICT;

CREATE INDEX throttle_failures_key_at_idx ON throttle_failures (key, at);
CREATE INDEX throttle_failures_at_idx ON throttle_failures (at);
