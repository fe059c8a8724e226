-- One Parta ID is one human (DESIGN §2): children without a phone get a
-- profile of their own that a guardian makes and manages; a messenger sign-in
-- by login and password for them; codes that sign a child in on a new device;
-- and failed sign-ins counted in the database, so limits hold across
-- restarts and nodes and follow the server's clock.

-- A child's messenger login (set by a guardian); NULL for everyone else.
ALTER TABLE accounts ADD COLUMN login TEXT;
CREATE UNIQUE INDEX accounts_login ON accounts (login);

-- A Parta ID a guardian made for a child (no phone until it moves to the
-- child's own). One per child: the second guardian finds the first's.
CREATE TABLE child_profiles (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    child_id   INTEGER NOT NULL UNIQUE REFERENCES people (id),
    -- The guardian's school account that made it.
    created_by INTEGER NOT NULL REFERENCES people (id),
    created_at BIGINT NOT NULL
);

-- The consent of a legal representative (152-ФЗ art. 9), as given: the
-- wording and the guardian's name are copied, so the record outlives edits.
CREATE TABLE guardian_consents (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    child_id      INTEGER NOT NULL REFERENCES people (id),
    guardian_id   INTEGER NOT NULL REFERENCES people (id),
    guardian_name TEXT NOT NULL,
    version       TEXT NOT NULL,
    wording       TEXT NOT NULL,
    given_at      BIGINT NOT NULL
);
CREATE INDEX guardian_consents_account ON guardian_consents (account_id);

-- Shown on a guardian's device, typed (or scanned) on the child's: single use.
CREATE TABLE child_sign_in_codes (
    code_hash  TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    -- The guardian's Parta ID that asked for it.
    created_by INTEGER NOT NULL REFERENCES accounts (id),
    expires_at BIGINT NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX child_sign_in_codes_account ON child_sign_in_codes (account_id);

-- Sign-in tries that failed and look-ups that are limited, per scope ('login', 'address', 'child_code', …) and key.
CREATE TABLE auth_attempts (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX auth_attempts_key ON auth_attempts (scope, key, at);
CREATE INDEX auth_attempts_at ON auth_attempts (at);
