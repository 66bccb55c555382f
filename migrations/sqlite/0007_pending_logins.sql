-- Single sign-on logins sent to the identity provider and not yet back
-- (store.PendingLogin). Keyed by a hash of the state; single use (the
-- callback deletes the row as it reads it); expired rows are purged.
CREATE TABLE pending_logins (
    state_hash   TEXT    PRIMARY KEY,
    nonce_hash   TEXT    NOT NULL,
    verifier     BLOB    NOT NULL,  -- PKCE verifier sealed with a key from the state
    next         TEXT    NOT NULL,
    redirect_uri TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,  -- microseconds since the epoch, UTC
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX pending_logins_expires_at_idx ON pending_logins (expires_at);
