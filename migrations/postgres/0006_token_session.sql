-- A browser session is a token like any other (same TTL, revocation and
-- audit); the flag tells the web page which tokens are the user's
-- sessions, and /auth/v1/me that the caller came with the cookie.
ALTER TABLE tokens ADD COLUMN session boolean NOT NULL DEFAULT false;
