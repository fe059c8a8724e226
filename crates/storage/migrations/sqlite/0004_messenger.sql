-- The messenger: direct chats, messages, their per-chat event log (the
-- sequence numbers clients resume from), edits, reactions, read positions and
-- the organisation's direct-message policy.
--
-- Widening `chats.kind` to 'direct' needs the table rebuilt (SQLite cannot
-- alter a CHECK), inside the migration's transaction where foreign keys stay
-- on. Deferred, they hold: dropping `chats` counts its members' and log rows'
-- references as violations, re-inserting the same ids clears them, and any
-- reference left dangling fails the commit.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE chats_before_0004 AS SELECT * FROM chats;
DROP TABLE chats;

CREATE TABLE chats (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs (id),
    kind              TEXT NOT NULL CHECK (kind IN ('staff_room', 'class', 'parents', 'subject', 'custom', 'direct')),
    year_id           INTEGER REFERENCES academic_years (id),
    class_id          INTEGER REFERENCES classes (id),
    section_id        INTEGER REFERENCES sections (id),
    name              TEXT NOT NULL,
    name_overridden   BOOLEAN NOT NULL DEFAULT FALSE,
    state             TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'read_only_hidden', 'archived')),
    created_at        BIGINT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    -- Only chat admins post (an announcements channel).
    announcement_only BOOLEAN NOT NULL DEFAULT FALSE,
    -- The sequence number of the chat's latest event (chat_events.seq).
    last_seq          BIGINT NOT NULL DEFAULT 0,
    -- Direct chats: "<lower person id>:<higher person id>", one chat per pair.
    direct_key        TEXT
);
INSERT INTO chats (id, org_id, kind, year_id, class_id, section_id, name, name_overridden, state, created_at)
    SELECT id, org_id, kind, year_id, class_id, section_id, name, name_overridden, state, created_at
    FROM chats_before_0004;
DROP TABLE chats_before_0004;
CREATE INDEX chats_org ON chats (org_id, kind);
CREATE UNIQUE INDEX chats_staff_room ON chats (org_id, year_id) WHERE kind = 'staff_room' AND year_id IS NOT NULL;
CREATE UNIQUE INDEX chats_class ON chats (kind, class_id) WHERE kind IN ('class', 'parents');
CREATE UNIQUE INDEX chats_subject ON chats (section_id) WHERE kind = 'subject';
CREATE UNIQUE INDEX chats_direct ON chats (org_id, direct_key) WHERE kind = 'direct';

-- Everything up to this sequence number the member has read.
ALTER TABLE chat_members ADD COLUMN last_read_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    -- The chat event that created the message.
    seq        BIGINT NOT NULL,
    -- The school account that wrote it: authorship outlives an unlink.
    author_id  INTEGER NOT NULL REFERENCES people (id),
    -- The sender's idempotency key: a retried send finds its message.
    client_id  TEXT NOT NULL,
    -- Empty once deleted: a tombstone keeps its place in the history.
    body       TEXT NOT NULL,
    reply_to   INTEGER REFERENCES messages (id),
    -- Comma-separated person ids, members of the chat when it was sent.
    mentions   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    edited_at  BIGINT,
    deleted_at BIGINT,
    pinned_at  BIGINT,
    UNIQUE (chat_id, seq),
    UNIQUE (chat_id, author_id, client_id)
);
CREATE INDEX messages_pinned ON messages (chat_id, pinned_at) WHERE pinned_at IS NOT NULL;

-- The chat's log, in sequence order with no gaps: what a reconnecting client
-- is sent. `body` is the text an edit set; it is erased when the message is deleted.
CREATE TABLE chat_events (
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('message', 'edited', 'deleted', 'reaction_added', 'reaction_removed', 'pinned', 'unpinned')),
    message_id INTEGER NOT NULL REFERENCES messages (id),
    actor_id   INTEGER NOT NULL REFERENCES people (id),
    body       TEXT,
    at         BIGINT NOT NULL,
    PRIMARY KEY (chat_id, seq)
);

-- What a message said before each edit (erased when it is deleted).
CREATE TABLE message_edits (
    message_id    INTEGER NOT NULL REFERENCES messages (id),
    previous_body TEXT NOT NULL,
    edited_at     BIGINT NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id);

CREATE TABLE message_reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id),
    person_id  INTEGER NOT NULL REFERENCES people (id),
    emoji      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, person_id, emoji)
);

-- An organisation's changes to the default direct-message rules, per
-- (initiator, recipient) role pair.
CREATE TABLE dm_policy (
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    from_party TEXT NOT NULL,
    to_party   TEXT NOT NULL,
    rule       TEXT NOT NULL,
    PRIMARY KEY (org_id, from_party, to_party)
);
