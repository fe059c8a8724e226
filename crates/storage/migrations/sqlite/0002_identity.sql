-- Parta ID: verified phone accounts, learning profiles, and their links to
-- school accounts (one link per school account and organisation).

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    -- E.164. NULL once the account is deleted: the phone is personal data.
    phone         TEXT UNIQUE,
    last_name     TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    middle_name   TEXT,
    password_hash TEXT,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);

-- The school-verified persona of an account ("about me"); at most one per account.
CREATE TABLE learning_profiles (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL UNIQUE REFERENCES accounts (id),
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    middle_name TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE profile_links (
    id         INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL REFERENCES learning_profiles (id),
    person_id  INTEGER NOT NULL REFERENCES people (id),
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    linked_at  BIGINT NOT NULL,
    UNIQUE (person_id, org_id)
);
CREATE INDEX profile_links_profile ON profile_links (profile_id);

-- Every code sent, hashed. The rows are also the send counters: per-phone and
-- per-IP limits hold across restarts and across nodes.
CREATE TABLE sms_codes (
    id             INTEGER PRIMARY KEY,
    phone          TEXT NOT NULL,
    ip             TEXT NOT NULL,
    salt           TEXT NOT NULL,
    hash           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    used           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sms_codes_phone ON sms_codes (phone, created_at);
CREATE INDEX sms_codes_ip ON sms_codes (ip, created_at);

-- A phone proven a moment ago (right code or password): single use, short-lived.
CREATE TABLE phone_proofs (
    token_hash TEXT PRIMARY KEY,
    phone      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE
);

-- "Перейти в мессенджер": a one-time token that signs the user in.
CREATE TABLE sign_in_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    link_id    INTEGER NOT NULL REFERENCES profile_links (id),
    expires_at BIGINT NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE
);

-- Sessions that came from a link die with it (link_id); sessions from a phone
-- sign-in have none.
CREATE TABLE messenger_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    link_id      INTEGER REFERENCES profile_links (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messenger_sessions_account ON messenger_sessions (account_id);
CREATE INDEX messenger_sessions_link ON messenger_sessions (link_id);

-- Domain events written in the transaction that caused them (ProfileLinked,
-- ProfileUnlinked), read in order by the provisioning reconciler.
CREATE TABLE domain_events (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
