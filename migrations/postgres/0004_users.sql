-- The local backend's users. Passwords are kept only as argon2id hashes
-- (or imported bcrypt hashes until the next good login re-hashes them).
CREATE TABLE users (
    name                  text        PRIMARY KEY,
    password_hash         text        NOT NULL,
    active                boolean     NOT NULL DEFAULT true,
    must_change_password  boolean     NOT NULL DEFAULT false,
    groups                text[]      NOT NULL DEFAULT '{}',
    extra                 jsonb       NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    password_changed_at   timestamptz NOT NULL
);
