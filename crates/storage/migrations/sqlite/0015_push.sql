-- Web Push (issue 19): reaching a person whose messenger tab is closed.

-- The server's VAPID key (RFC 8292), made at first start. Kept with the data,
-- so every node signs with the same key: browsers bind their subscriptions
-- to its public half.
CREATE TABLE push_vapid_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A browser's subscription (PushSubscription.toJSON()), one per messenger
-- session: signing out or revoking the session deletes it with the session.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL UNIQUE REFERENCES messenger_sessions (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- «Показывать текст в уведомлениях»: off, a notification says only who wrote
-- in which chat (for a phone others look at).
ALTER TABLE accounts ADD COLUMN push_previews BOOLEAN NOT NULL DEFAULT TRUE;

-- A person's choice of notifications in one chat; no row: the chat's kind
-- decides (messenger::notify::default_level). `muted_until`: «Без
-- уведомлений» until then (the largest BIGINT: until turned on).
CREATE TABLE chat_notify (
    chat_id     BIGINT NOT NULL,
    person_id   BIGINT NOT NULL,
    level       TEXT CHECK (level IN ('all', 'important', 'mentions')),
    muted_until BIGINT,
    PRIMARY KEY (chat_id, person_id),
    FOREIGN KEY (chat_id, person_id) REFERENCES chat_members (chat_id, person_id) ON DELETE CASCADE
);
