-- Chat management from the school portal: staff overrides the reconciler
-- keeps, deleting (restorable until purged), edits that notice each other,
-- and the audit log of every management action.

-- Archived by staff: the reconciler does not bring it back while it still wants it.
ALTER TABLE chats ADD COLUMN archived_by_hand BOOLEAN NOT NULL DEFAULT FALSE;
-- Bumped by every settings edit: an edit made from an older version is refused.
ALTER TABLE chats ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
-- Deleted by staff (custom chats only): hidden (state read_only_hidden) and
-- restorable until purged; `state_before_delete` is what a restore goes back to.
ALTER TABLE chats ADD COLUMN deleted_at BIGINT;
ALTER TABLE chats ADD COLUMN state_before_delete TEXT;
-- Purged: messages and members are gone; the row stays for the audit log.
ALTER TABLE chats ADD COLUMN purged_at BIGINT;
CREATE INDEX chats_deleted ON chats (deleted_at) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

-- Staff appointed or revoked this admin by hand: the roster no longer decides it.
ALTER TABLE chat_members ADD COLUMN admin_overridden BOOLEAN NOT NULL DEFAULT FALSE;

-- Every management action: who, what, when, before → after (JSON objects).
CREATE TABLE chat_audit (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id),
    chat_id         INTEGER NOT NULL REFERENCES chats (id),
    -- NULL for the system (a purge).
    actor_person_id INTEGER REFERENCES people (id),
    action          TEXT NOT NULL,
    -- The person a membership or admin action is about.
    person_id       INTEGER REFERENCES people (id),
    before          TEXT NOT NULL DEFAULT '{}',
    after           TEXT NOT NULL DEFAULT '{}',
    at              BIGINT NOT NULL
);
CREATE INDEX chat_audit_org ON chat_audit (org_id, id);
CREATE INDEX chat_audit_chat ON chat_audit (chat_id, id);
