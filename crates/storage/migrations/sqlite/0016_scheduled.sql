-- Scheduled messages («Отправить позже», issue 19): kept by the server and
-- sent at `send_at` through the same path as a message sent then.

-- `account_id` is the Parta ID that scheduled it (only it sees, edits and
-- cancels it); `person_id` the school account it writes as in the chat's
-- school, for the person's erasure. `client_id` becomes the message's own
-- idempotency key when it is sent: a send repeated after a crash finds the
-- message already made (messages are unique per chat, author and client id).
-- `state`: pending → sending (taken by the background job; no more edits) →
-- sent (`message_id`) or failed (`failure`, an error code the author is
-- shown); or pending → cancelled.
CREATE TABLE scheduled_messages (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats (id),
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    person_id   INTEGER NOT NULL REFERENCES people (id),
    client_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    reply_to    INTEGER,
    mentions    TEXT NOT NULL,
    send_at     BIGINT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    failure     TEXT,
    message_id  INTEGER,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (chat_id, account_id, client_id)
);
-- What the background job looks for every second: waiting rows whose time came.
CREATE INDEX scheduled_messages_due ON scheduled_messages (send_at) WHERE state IN ('pending', 'sending');
-- A person's waiting messages (the limit) and their list in a chat.
CREATE INDEX scheduled_messages_account ON scheduled_messages (account_id, state);
