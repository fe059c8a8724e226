-- Safeguarding: the staff the director names responsible for it, reports of
-- messages with the evidence as it was, what moderators did about them, and
-- the people a person blocked from writing to them directly, and every time
-- a moderator opened a chat.

-- Employees who moderate the school's reports alongside its administrators.
CREATE TABLE safeguarding_staff (
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    named_by  INTEGER NOT NULL REFERENCES people (id),
    named_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, person_id)
);

-- A moderator hid the message (its text is gone like a deleted one's; the
-- report keeps it): when, and the report's reason the author is told.
ALTER TABLE messages ADD COLUMN hidden_at BIGINT;
ALTER TABLE messages ADD COLUMN hidden_reason TEXT;
-- A moderator muted the member in this chat until then.
ALTER TABLE chat_members ADD COLUMN muted_until BIGINT;

CREATE TABLE message_reports (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs (id),
    chat_id      INTEGER NOT NULL REFERENCES chats (id),
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    reporter_id  INTEGER NOT NULL REFERENCES people (id),
    author_id    INTEGER NOT NULL REFERENCES people (id),
    reason       TEXT NOT NULL CHECK (reason IN ('bullying', 'inappropriate', 'danger', 'spam', 'other')),
    comment      TEXT NOT NULL DEFAULT '',
    -- JSON: the message and the messages around it as they were when reported;
    -- later edits, deletes and hides do not touch it.
    snapshot     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- open, actioned or dismissed.
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'actioned', 'dismissed')),
    decided_by   INTEGER REFERENCES people (id),
    decided_at   BIGINT,
    hid          BOOLEAN NOT NULL DEFAULT FALSE,
    muted_until  BIGINT,
    removed      BOOLEAN NOT NULL DEFAULT FALSE,
    -- The moderator's words to the author and the reporter.
    note         TEXT NOT NULL DEFAULT '',
    UNIQUE (message_id, reporter_id)
);
CREATE INDEX message_reports_org ON message_reports (org_id, status, id);
CREATE INDEX message_reports_reporter ON message_reports (reporter_id, created_at);

-- The blocked person cannot write to the blocker in their direct chat; group
-- chats are never affected.
CREATE TABLE person_blocks (
    blocker_id INTEGER NOT NULL REFERENCES people (id),
    blocked_id INTEGER NOT NULL REFERENCES people (id),
    blocked_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX person_blocks_blocked ON person_blocks (blocked_id);

-- Every time a moderator opened a chat read-only: who, when, why. Members
-- are told how often and when (never who or why); the school sees it all.
CREATE TABLE chat_oversight (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    chat_id   INTEGER NOT NULL REFERENCES chats (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    reason    TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX chat_oversight_chat ON chat_oversight (chat_id, at);
CREATE INDEX chat_oversight_org ON chat_oversight (org_id, id);
