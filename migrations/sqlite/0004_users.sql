-- The local backend's users. Passwords are kept only as argon2id hashes
-- (or imported bcrypt hashes until the next good login re-hashes them).
CREATE TABLE users (
    name                  TEXT    NOT NULL PRIMARY KEY,
    password_hash         TEXT    NOT NULL,
    active                INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    must_change_password  INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    groups                TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(groups)),
    extra                 TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    password_changed_at   INTEGER NOT NULL
) STRICT;
