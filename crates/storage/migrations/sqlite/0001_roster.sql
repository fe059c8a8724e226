-- The school roster. Rows that came from a roster package carry its sourcedId;
-- rows made in the portal have none. Nothing is deleted: "active = false" keeps
-- history for the messenger (a student who left still authored messages).

CREATE TABLE orgs (
    id            INTEGER PRIMARY KEY,
    source_id     TEXT UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('general_education', 'other')),
    chats_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    active        BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE academic_years (
    id         INTEGER PRIMARY KEY,
    source_id  TEXT UNIQUE,
    title      TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date   TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE people (
    id                   INTEGER PRIMARY KEY,
    source_id            TEXT UNIQUE,
    last_name            TEXT NOT NULL,
    first_name           TEXT NOT NULL,
    middle_name          TEXT,
    login                TEXT UNIQUE,
    password_hash        TEXT,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    -- Lower-cased "last first middle login", made in Rust: SQLite's lower() knows only ASCII.
    search_key           TEXT NOT NULL DEFAULT '',
    active               BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE person_roles (
    person_id INTEGER NOT NULL REFERENCES people (id),
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    role      TEXT NOT NULL CHECK (role IN ('administrator', 'teacher', 'other_staff', 'student', 'guardian')),
    PRIMARY KEY (person_id, org_id, role)
);
CREATE INDEX person_roles_org ON person_roles (org_id, role);

CREATE TABLE classes (
    id        INTEGER PRIMARY KEY,
    source_id TEXT UNIQUE,
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    year_id   INTEGER REFERENCES academic_years (id),
    name      TEXT NOT NULL,
    grade     INTEGER NOT NULL,
    active    BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX classes_org ON classes (org_id);

CREATE TABLE subjects (
    id        INTEGER PRIMARY KEY,
    source_id TEXT UNIQUE,
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    name      TEXT NOT NULL,
    active    BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX subjects_org ON subjects (org_id);

-- A subject taught to a class or to one group of it.
CREATE TABLE sections (
    id         INTEGER PRIMARY KEY,
    source_id  TEXT UNIQUE,
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    subject_id INTEGER NOT NULL REFERENCES subjects (id),
    class_id   INTEGER REFERENCES classes (id),
    group_name TEXT,
    year_id    INTEGER REFERENCES academic_years (id),
    active     BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX sections_class ON sections (class_id);

-- A person in a class (a student; a primary teacher is the class teacher) or in a
-- section (its teacher; a student of that group).
CREATE TABLE enrollments (
    id         INTEGER PRIMARY KEY,
    source_id  TEXT UNIQUE,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    class_id   INTEGER REFERENCES classes (id),
    section_id INTEGER REFERENCES sections (id),
    role       TEXT NOT NULL CHECK (role IN ('student', 'teacher')),
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    begin_date TEXT,
    end_date   TEXT,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    CHECK ((class_id IS NULL) <> (section_id IS NULL))
);
CREATE INDEX enrollments_person ON enrollments (person_id);
CREATE INDEX enrollments_class ON enrollments (class_id);
CREATE INDEX enrollments_section ON enrollments (section_id);

CREATE TABLE guardianships (
    guardian_id INTEGER NOT NULL REFERENCES people (id),
    student_id  INTEGER NOT NULL REFERENCES people (id),
    PRIMARY KEY (guardian_id, student_id)
);
CREATE INDEX guardianships_student ON guardianships (student_id);

-- School-portal sessions. Only a hash of the cookie token is stored.
CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_person ON portal_sessions (person_id);
