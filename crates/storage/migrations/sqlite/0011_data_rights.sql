-- A person's rights over their data (issue 21, items 5–6): copies of a
-- person's data made in the background, the audit of what administrators did
-- with people's data, and how long a school keeps past years' archived chats.

-- A copy of a person's data: asked by the person (account_id) or, for a person
-- of a school, by its administrator (org_id, person_id, requested_by). The zip
-- lives in the file store under `sha256` until `expires_at`, then goes.
CREATE TABLE data_exports (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER REFERENCES accounts (id),
    org_id       INTEGER REFERENCES orgs (id),
    person_id    INTEGER REFERENCES people (id),
    requested_by INTEGER REFERENCES people (id),
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed', 'expired')),
    -- Percent done while pending.
    progress     INTEGER NOT NULL DEFAULT 0,
    sha256       TEXT,
    size         BIGINT,
    created_at   BIGINT NOT NULL,
    ready_at     BIGINT,
    expires_at   BIGINT,
    CHECK ((account_id IS NULL) <> (person_id IS NULL))
);
CREATE INDEX data_exports_account ON data_exports (account_id, id);
CREATE INDEX data_exports_org ON data_exports (org_id, id);
CREATE INDEX data_exports_open ON data_exports (status) WHERE status IN ('pending', 'ready');

-- What was done with people's data and why: an administrator's export or
-- erasure (who, whom, when, the reason), a retention setting and each
-- retention run (no actor: the system).
CREATE TABLE data_rights_audit (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id),
    actor_person_id INTEGER REFERENCES people (id),
    person_id       INTEGER REFERENCES people (id),
    action          TEXT NOT NULL CHECK (action IN ('export', 'erasure', 'retention_setting', 'retention')),
    reason          TEXT NOT NULL DEFAULT '',
    -- JSON: what went (counts), or the setting before and after.
    details         TEXT NOT NULL DEFAULT '{}',
    at              BIGINT NOT NULL
);
CREATE INDEX data_rights_audit_org ON data_rights_audit (org_id, id);
CREATE INDEX data_rights_audit_person ON data_rights_audit (person_id, action) WHERE person_id IS NOT NULL;

-- Years after a year's end its archived chats are deleted; 0 keeps them for ever.
ALTER TABLE orgs ADD COLUMN retention_years INTEGER NOT NULL DEFAULT 3;
