-- Files and search: content-addressed blobs, the attachments that point at
-- them, an upload size limit per organisation, and the full-text index of
-- messages (FTS5 over terms stemmed in Rust by the `search` crate).

-- Upload limit in bytes; NULL takes the server's default (100 MB).
ALTER TABLE orgs ADD COLUMN max_file_bytes BIGINT;

-- One row per stored blob (its bytes live in the object store under the
-- hash). A blob no file references is garbage once `touched_at` is older
-- than the collector's grace period.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    touched_at BIGINT NOT NULL
);

-- An upload into a chat: pending (message_id NULL) until a message of its
-- uploader takes it, then that message's attachment. Deleting the message
-- deletes these rows; their blobs are then collected.
CREATE TABLE files (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL REFERENCES chats (id),
    uploader_id  INTEGER NOT NULL REFERENCES people (id),
    message_id   INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    -- Order within the message.
    position     INTEGER NOT NULL DEFAULT 0,
    sha256       TEXT NOT NULL REFERENCES blobs (sha256),
    thumb_sha256 TEXT REFERENCES blobs (sha256),
    -- Sanitised: no path, no control characters.
    name         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    -- Sniffed from the content, never the client's word.
    mime         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('image', 'file')),
    width        INTEGER,
    height       INTEGER,
    created_at   BIGINT NOT NULL
);
CREATE INDEX files_message ON files (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX files_chat ON files (chat_id, message_id);
CREATE INDEX files_pending ON files (created_at) WHERE message_id IS NULL;
CREATE INDEX files_sha ON files (sha256);
CREATE INDEX files_thumb ON files (thumb_sha256) WHERE thumb_sha256 IS NOT NULL;

-- The search index: one row per live message (rowid = messages.id). Each
-- term is written "<chat id>_<stem>", so a search reads only the doclists
-- of the viewer's chats, not every chat's. Contentless: the words are in
-- `messages`; deleting a message deletes its row here.
CREATE VIRTUAL TABLE message_fts USING fts5(
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);

-- Messages written before this index existed, indexed at start-up by
-- `Store::open` (SQLite cannot stem in SQL): the highest id still to do.
CREATE TABLE search_backfill (up_to BIGINT NOT NULL);
INSERT INTO search_backfill (up_to) SELECT COALESCE(MAX(id), 0) FROM messages;
