-- Chats and their members, as the provisioning reconciler and (later) the
-- messenger keep them. Members are school accounts (people): a person who has
-- not linked a learning profile yet is a pending member.

CREATE TABLE chats (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id),
    kind            TEXT NOT NULL CHECK (kind IN ('staff_room', 'class', 'parents', 'subject', 'custom')),
    -- The stable identity of an automatic chat: the staff room of a year, a
    -- class (class and parents chats) or a section (subject chats). Renaming a
    -- class renames its chats without losing them.
    year_id         INTEGER REFERENCES academic_years (id),
    class_id        INTEGER REFERENCES classes (id),
    section_id      INTEGER REFERENCES sections (id),
    name            TEXT NOT NULL,
    -- Staff renamed it by hand: the reconciler keeps their name.
    name_overridden BOOLEAN NOT NULL DEFAULT FALSE,
    state           TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'read_only_hidden', 'archived')),
    created_at      BIGINT NOT NULL
);
CREATE INDEX chats_org ON chats (org_id, kind);
CREATE UNIQUE INDEX chats_staff_room ON chats (org_id, year_id) WHERE kind = 'staff_room' AND year_id IS NOT NULL;
CREATE UNIQUE INDEX chats_class ON chats (kind, class_id) WHERE kind IN ('class', 'parents');
CREATE UNIQUE INDEX chats_subject ON chats (section_id) WHERE kind = 'subject';

CREATE TABLE chat_members (
    chat_id   INTEGER NOT NULL REFERENCES chats (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    admin     BOOLEAN NOT NULL DEFAULT FALSE,
    -- roster: derived by the reconciler; manual: added by staff.
    source    TEXT NOT NULL CHECK (source IN ('roster', 'manual')),
    -- removed_by_hand: staff took a roster member out; the reconciler leaves it so.
    status    TEXT NOT NULL CHECK (status IN ('active', 'pending', 'removed_by_hand')),
    -- Why the person is here, e.g. "ученик 5А; родитель ученика 7Б".
    reasons   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (chat_id, person_id)
);
CREATE INDEX chat_members_person ON chat_members (person_id);

-- Every change the reconciler made, with its reason.
CREATE TABLE provisioning_log (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    chat_id   INTEGER REFERENCES chats (id),
    person_id INTEGER REFERENCES people (id),
    change    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX provisioning_log_org ON provisioning_log (org_id, id);
