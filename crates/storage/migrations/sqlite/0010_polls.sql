-- Announcements known to be read, and polls (issue 20). Read receipts: when
-- each read position was reached, so a chat's admins see when a family read a
-- message, and the reminders sent to those who had not.

-- A member's read position moved to `seq` at `at`. The time a member read a
-- message is the first mark at or past its sequence number.
CREATE TABLE read_marks (
    chat_id   INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    FOREIGN KEY (chat_id, person_id) REFERENCES chat_members (chat_id, person_id) ON DELETE CASCADE
);
CREATE INDEX read_marks_chat ON read_marks (chat_id, person_id, seq);

-- «Напомнить»: at most one per message per 12 hours (messenger::receipts).
CREATE TABLE message_reminders (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    recipients INTEGER NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX message_reminders_message ON message_reminders (message_id, at);

-- Polls: a message whose text is the question. Anonymous polls keep each
-- vote only so that its voter can change it; nothing reads it for anyone else.
CREATE TABLE polls (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    multiple   BOOLEAN NOT NULL,
    anonymous  BOOLEAN NOT NULL,
    closes_at  BIGINT,
    -- Its author closed it early.
    closed_at  BIGINT
);
CREATE TABLE poll_options (
    message_id INTEGER NOT NULL REFERENCES polls (message_id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (message_id, idx)
);
CREATE TABLE poll_votes (
    message_id INTEGER NOT NULL REFERENCES polls (message_id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    idx        INTEGER NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, person_id, idx)
);

-- A poll's results changed (a vote, or it closed): an event in the chat's log
-- like any other, so a client that reconnects misses none.
CREATE TABLE chat_events_new (
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('message', 'edited', 'deleted', 'reaction_added', 'reaction_removed', 'pinned', 'unpinned', 'poll')),
    message_id INTEGER NOT NULL REFERENCES messages (id),
    actor_id   INTEGER NOT NULL REFERENCES people (id),
    body       TEXT,
    at         BIGINT NOT NULL,
    PRIMARY KEY (chat_id, seq)
);
INSERT INTO chat_events_new (chat_id, seq, kind, message_id, actor_id, body, at)
    SELECT chat_id, seq, kind, message_id, actor_id, body, at FROM chat_events;
DROP TABLE chat_events;
ALTER TABLE chat_events_new RENAME TO chat_events;
