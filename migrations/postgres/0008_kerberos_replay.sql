-- Kerberos authenticators accepted through HTTP Negotiate, kept until
-- the clock-skew window in which they could be replayed has passed, so
-- that every replica refuses a replay. key is a SHA-256 hex of the
-- client principal, service and authenticator time: nothing secret.
CREATE TABLE kerberos_replay (
    key        text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE INDEX kerberos_replay_expires_at_idx ON kerberos_replay (expires_at);
