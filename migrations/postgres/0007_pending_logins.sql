-- Single sign-on logins sent to the identity provider and not yet back
-- (store.PendingLogin). Keyed by a hash of the state; single use (the
-- callback deletes the row as it reads it); expired rows are purged.
CREATE TABLE pending_logins (
    state_hash   text        PRIMARY KEY,
    nonce_hash   text        NOT NULL,
    verifier     bytea       NOT NULL,  -- PKCE verifier sealed with a key from the state
    next         text        NOT NULL,
    redirect_uri text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE INDEX pending_logins_expires_at_idx ON pending_logins (expires_at);
