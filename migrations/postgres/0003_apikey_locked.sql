-- An API key disabled by an admin, revoked through RFC 7009 or disabled
-- because its user was removed is locked: only an admin may enable it
-- again (its owner gets 403). Enabling by an admin clears the lock.
ALTER TABLE api_keys ADD COLUMN locked boolean NOT NULL DEFAULT false;
