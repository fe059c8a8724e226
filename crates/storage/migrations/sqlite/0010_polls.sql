-- Announcements known to be read (issue 20): when each read position was
-- reached, so a chat's admins see when a family read a message, and the
-- reminders sent to those who had not.

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
