-- A poll's results are logged as a chat event a few times a second at most,
-- not once per vote (issue 20: a class of 1,000 voting at once sent every
-- member a million events). A vote marks its poll unlogged in its own
-- transaction; logging the results clears the mark. A node that dies
-- between the two leaves the mark, and the background jobs log it.
ALTER TABLE polls ADD COLUMN unlogged BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX polls_unlogged ON polls (message_id) WHERE unlogged;
