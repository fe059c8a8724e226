-- Consent forms in parents' chats (issue 20): a message whose text is the
-- form's text, answered per child by the child's guardians. Every answer is
-- kept (the latest per child counts), so the school's record shows who
-- changed what and when.
CREATE TABLE consent_forms (
    message_id       INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    deadline         BIGINT NOT NULL,
    comment_required BOOLEAN NOT NULL,
    -- A chat admin last reopened it (with a new deadline).
    reopened_at      BIGINT
);
CREATE TABLE consent_options (
    message_id INTEGER NOT NULL REFERENCES consent_forms (message_id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (message_id, idx)
);
CREATE TABLE consent_answers (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES consent_forms (message_id) ON DELETE CASCADE,
    student_id INTEGER NOT NULL REFERENCES people (id),
    -- The guardian who answered.
    person_id  INTEGER NOT NULL REFERENCES people (id),
    idx        INTEGER NOT NULL,
    comment    TEXT,
    at         BIGINT NOT NULL
);
CREATE INDEX consent_answers_form ON consent_answers (message_id, student_id, id);
-- «Напомнить» families that have not answered: at most once per form per 12 hours.
CREATE TABLE consent_reminders (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES consent_forms (message_id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    recipients INTEGER NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX consent_reminders_form ON consent_reminders (message_id, at);

-- An answer or a reopening is an event in the chat's log like a poll's vote,
-- so a client that reconnects misses none.
CREATE TABLE chat_events_new (
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('message', 'edited', 'deleted', 'reaction_added', 'reaction_removed', 'pinned', 'unpinned', 'poll', 'consent')),
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
