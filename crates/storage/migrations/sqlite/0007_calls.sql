-- Calls: one row per audio or video call in a chat, who took part, and the
-- record message the chat shows once it is over (`messages.call_id`).

CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats (id),
    -- What it was started as; anyone may turn a camera on later.
    kind        TEXT NOT NULL CHECK (kind IN ('audio', 'video')),
    -- The school account that started it: the record message's author.
    started_by  INTEGER NOT NULL REFERENCES people (id),
    started_at  BIGINT NOT NULL,
    -- The first join by someone other than `started_by`.
    answered_at BIGINT,
    ended_at    BIGINT,
    outcome     TEXT CHECK (outcome IN ('finished', 'missed', 'declined', 'ended_by_moderator', 'server_restart')),
    -- The server node hosting its media: at start-up a node ends the calls
    -- it still holds as `server_restart`.
    node        TEXT NOT NULL,
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX calls_unfinished ON calls (node) WHERE ended_at IS NULL;
CREATE INDEX calls_chat ON calls (chat_id);

CREATE TABLE call_participants (
    call_id         INTEGER NOT NULL REFERENCES calls (id),
    person_id       INTEGER NOT NULL REFERENCES people (id),
    first_joined_at BIGINT NOT NULL,
    -- NULL while they are in the call.
    last_left_at    BIGINT,
    PRIMARY KEY (call_id, person_id)
);

-- The record message of a call: empty body, one per call.
ALTER TABLE messages ADD COLUMN call_id INTEGER REFERENCES calls (id);
CREATE UNIQUE INDEX messages_call ON messages (call_id) WHERE call_id IS NOT NULL;
