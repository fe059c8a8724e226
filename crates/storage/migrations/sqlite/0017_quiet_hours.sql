-- School quiet hours and «Срочно» (issue 19).

-- A school's quiet hours, as its administrators chose them; no row: the
-- default (weekday evenings and the weekend, parents' and class chats) in the
-- configured zone. `periods`: "mon 19:00 tue 08:00" spans joined by ",";
-- `chat_kinds`: the kinds covered, joined by ",".
CREATE TABLE quiet_hours (
    org_id     INTEGER PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    time_zone  TEXT NOT NULL,
    periods    TEXT NOT NULL,
    chat_kinds TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- «Срочно»: a chat admin's message that notified at once. The messages are
-- also the record of how often it was used.
ALTER TABLE messages ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX messages_urgent ON messages (created_at) WHERE urgent;

-- A push quiet hours held back: summed up per Parta ID when they end
-- (`release_at`), leaving out what the member has read by then.
CREATE TABLE push_held (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    chat_id    BIGINT NOT NULL,
    person_id  BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    release_at BIGINT NOT NULL,
    FOREIGN KEY (chat_id, person_id) REFERENCES chat_members (chat_id, person_id) ON DELETE CASCADE
);
CREATE INDEX push_held_release ON push_held (release_at);
