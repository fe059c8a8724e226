// Chat management from the school portal: the facts `messenger::manage`
// decides on, the changes, the audit log and the purge. Compiled per backend
// inside `mod chat_admin` of `mod sqlite` and `mod postgres` (see lib.rs),
// together with chat_edit_queries.rs, chat_member_queries.rs and
// chat_audit_queries.rs, which use the imports here. This file: the facts,
// the helpers the changes share, and what the portal reads.

use crate::{
    AdminChange, ArchiveChange, AuditEntry, AuditFilter, Candidate, CandidateFilter, Candidates, ChatDraft, ChatEdit,
    ChatFilter, ManageContext, ManageOutcome, ManagedChat, ManagedChatDetail, ManagedMember, NamedId, PURGE_AFTER_SECS,
    StateFilter, StorageError,
};
use ::messenger::ManageRefusal;
use ::messenger::manage::{self as rules, ActorFacts, ManagedChatFacts, PersonFacts};
use roster::Role;
use roster::ids::{ChatId, ClassId, OrgId, PersonId, SectionId};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn refused(r: ManageRefusal) -> StorageError {
    StorageError::ManageRefused(r)
}

/// A write transaction that also holds the organisation's reconciliation lock.
pub(super) async fn begin(pool: &Pool<Db>, org: OrgId) -> Result<Tx, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    if let Some(lock) = LOCK_ORG {
        sqlx::query(lock).bind(org).execute(&mut *tx).await?;
    }
    Ok(tx)
}

// ---------------------------------------------------------------- facts

pub(super) async fn actor_facts(conn: &mut Conn, org: OrgId, person: PersonId) -> Result<ActorFacts, StorageError> {
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT r.role FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.person_id = $1 AND r.org_id = $2 AND p.active",
    )
    .bind(person)
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    let taught: Vec<(Option<ClassId>, Option<SectionId>)> = sqlx::query_as(
        "SELECT e.class_id, CAST(NULL AS BIGINT) FROM enrollments e JOIN classes c ON c.id = e.class_id \
           WHERE e.person_id = $1 AND e.role = 'teacher' AND e.active AND c.org_id = $2 AND c.active \
         UNION SELECT s.class_id, s.id FROM enrollments e JOIN sections s ON s.id = e.section_id \
           WHERE e.person_id = $1 AND e.role = 'teacher' AND e.active AND s.org_id = $2 AND s.active",
    )
    .bind(person)
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ActorFacts {
        roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
        taught_classes: taught.iter().filter_map(|(c, _)| *c).collect(),
        taught_sections: taught.iter().filter_map(|(_, s)| *s).collect(),
    })
}

/// Runs `sql` with `AND <column> IN (<people>)` appended, for each chunk of
/// `people`; every `{scope}` in `sql` is bound to `scope` (an organisation or
/// a chat). The builder numbers the placeholders, so none is written by hand.
async fn rows_for<T>(
    conn: &mut Conn,
    sql: &str,
    column: &str,
    scope: impl Into<i64> + Copy,
    people: &[PersonId],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let mut rows = Vec::new();
    for chunk in people.chunks(500) {
        let mut q = QueryBuilder::<Db>::new("");
        for (i, part) in sql.split("{scope}").enumerate() {
            if i > 0 {
                q.push_bind(scope.into());
            }
            q.push(part);
        }
        q.push(" AND ").push(column).push(" IN (");
        let mut list = q.separated(", ");
        for person in chunk {
            list.push_bind(*person);
        }
        q.push(")");
        rows.extend(q.build_query_as::<T>().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// What the rules need about each of `people` in `org`: roles, and the classes
/// and sections they are in as a student or as a parent of a student (each
/// counted only with the matching role here). People without a role here get
/// empty facts.
async fn person_facts(
    conn: &mut Conn,
    org: OrgId,
    people: &[PersonId],
) -> Result<HashMap<PersonId, PersonFacts>, StorageError> {
    let mut facts: HashMap<PersonId, PersonFacts> = people.iter().map(|&p| (p, PersonFacts::default())).collect();
    if people.is_empty() {
        return Ok(facts);
    }
    let roles: Vec<(PersonId, String)> = rows_for(
        conn,
        "SELECT r.person_id, r.role FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.org_id = {scope} AND p.active",
        "r.person_id",
        org,
        people,
    )
    .await?;
    for (person, role) in roles {
        if let (Some(f), Some(role)) = (facts.get_mut(&person), Role::parse(&role)) {
            f.roles.insert(role);
        }
    }
    const LINKS: &str = "SELECT e.person_id AS who, e.class_id, e.section_id FROM enrollments e \
         LEFT JOIN classes c ON c.id = e.class_id LEFT JOIN sections s ON s.id = e.section_id \
         WHERE (c.org_id = {scope} AND c.active OR s.org_id = {scope} AND s.active) AND e.role = 'student' AND e.active";
    let as_student: Vec<(PersonId, Option<ClassId>, Option<SectionId>)> =
        rows_for(conn, LINKS, "e.person_id", org, people).await?;
    let as_parent: Vec<(PersonId, Option<ClassId>, Option<SectionId>)> = rows_for(
        conn,
        "SELECT g.guardian_id, e.class_id, e.section_id FROM guardianships g JOIN enrollments e ON e.person_id = g.student_id \
         LEFT JOIN classes c ON c.id = e.class_id LEFT JOIN sections s ON s.id = e.section_id \
         WHERE (c.org_id = {scope} AND c.active OR s.org_id = {scope} AND s.active) AND e.role = 'student' AND e.active",
        "g.guardian_id",
        org,
        people,
    )
    .await?;
    for (rows, role) in [(as_student, Role::Student), (as_parent, Role::Guardian)] {
        for (person, class, section) in rows {
            if let Some(f) = facts.get_mut(&person).filter(|f| f.roles.contains(&role)) {
                f.classes.extend(class);
                f.sections.extend(section);
            }
        }
    }
    Ok(facts)
}

/// Which of `people` have linked a learning profile in `org`.
async fn linked_people(conn: &mut Conn, org: OrgId, people: &[PersonId]) -> Result<BTreeSet<PersonId>, StorageError> {
    let rows: Vec<(PersonId,)> =
        rows_for(conn, "SELECT l.person_id FROM profile_links l WHERE l.org_id = {scope}", "l.person_id", org, people)
            .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: ChatId,
    kind: String,
    name: String,
    description: String,
    state: String,
    announcement_only: bool,
    name_overridden: bool,
    archived_by_hand: bool,
    deleted_at: Option<i64>,
    purged_at: Option<i64>,
    version: i64,
    class_id: Option<ClassId>,
    class_name: Option<String>,
    year_id: Option<i64>,
    year_title: Option<String>,
    subject: Option<String>,
    group_name: Option<String>,
    members: i64,
    pending: i64,
    admins: i64,
    mine: bool,
}

impl ChatRow {
    fn facts(&self) -> ManagedChatFacts {
        ManagedChatFacts {
            custom: self.kind == "custom",
            actor_is_chat_admin: self.mine,
            deleted: self.deleted_at.is_some(),
            purged: self.purged_at.is_some(),
        }
    }

    fn into_view(self, administrator: bool) -> ManagedChat {
        ManagedChat {
            can_manage: (administrator || self.mine) && self.deleted_at.is_none(),
            id: self.id,
            kind: self.kind,
            name: self.name,
            description: self.description,
            state: self.state,
            announcement_only: self.announcement_only,
            class_id: self.class_id,
            class_name: self.class_name,
            year_id: self.year_id,
            year_title: self.year_title,
            subject: self.subject,
            group_name: self.group_name,
            member_count: self.members,
            pending_count: self.pending,
            admin_count: self.admins,
            name_overridden: self.name_overridden,
            archived_by_hand: self.archived_by_hand,
            purge_at: self.deleted_at.filter(|_| self.purged_at.is_none()).map(|d| d + PURGE_AFTER_SECS),
            deleted_at: self.deleted_at,
            purged: self.purged_at.is_some(),
            version: self.version,
        }
    }
}

/// The chats of `$1` as `$2` sees them on the management page. Direct chats
/// are not managed and do not exist here.
const CHATS: &str = "SELECT c.id, c.kind, c.name, c.description, c.state, c.announcement_only, c.name_overridden, \
       c.archived_by_hand, c.deleted_at, c.purged_at, c.version, cl.id AS class_id, cl.name AS class_name, \
       y.id AS year_id, y.title AS year_title, sub.name AS subject, s.group_name, \
       (SELECT COUNT(*) FROM chat_members m WHERE m.chat_id = c.id AND m.status = 'active') AS members, \
       (SELECT COUNT(*) FROM chat_members m WHERE m.chat_id = c.id AND m.status = 'pending') AS pending, \
       (SELECT COUNT(*) FROM chat_members m WHERE m.chat_id = c.id AND m.admin AND m.status <> 'removed_by_hand') \
         AS admins, \
       EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = c.id AND m.person_id = $2 AND m.admin \
         AND m.status <> 'removed_by_hand') AS mine \
     FROM chats c LEFT JOIN sections s ON s.id = c.section_id \
     LEFT JOIN classes cl ON cl.id = COALESCE(c.class_id, s.class_id) \
     LEFT JOIN academic_years y ON y.id = COALESCE(c.year_id, cl.year_id) \
     LEFT JOIN subjects sub ON sub.id = s.subject_id \
     WHERE c.org_id = $1 AND c.kind <> 'direct'";

async fn chat_row(conn: &mut Conn, org: OrgId, actor: PersonId, chat: ChatId) -> Result<ChatRow, StorageError> {
    sqlx::query_as(&format!("{CHATS} AND c.id = $3"))
        .bind(org)
        .bind(actor)
        .bind(chat)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StorageError::NotFound)
}

/// The actor and the chat, with the chat checked to be in the organisation.
async fn load(
    conn: &mut Conn,
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
) -> Result<(ActorFacts, ChatRow), StorageError> {
    let facts = actor_facts(conn, org, actor).await?;
    // Students and parents learn nothing about chats, not even which exist.
    rules::may_create(&facts).map_err(refused)?;
    Ok((facts, chat_row(conn, org, actor, chat).await?))
}

type Rule = fn(&ActorFacts, &ManagedChatFacts) -> Result<(), ManageRefusal>;

/// Opens the write transaction of a change to one chat, with the actor's
/// facts and the chat, once `rule` allows it.
async fn change(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
    rule: Rule,
) -> Result<(Tx, ActorFacts, ChatRow), StorageError> {
    let mut tx = begin(pool, org).await?;
    let (facts, row) = load(&mut tx, org, actor, chat).await?;
    rule(&facts, &row.facts()).map_err(refused)?;
    Ok((tx, facts, row))
}

/// Commits a change every member sees (a rename, an archive, a delete).
async fn commit_for_members(mut tx: Tx, chat: ChatId) -> Result<ManageOutcome, StorageError> {
    let people = present_members(&mut tx, chat).await?;
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people })
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    status: String,
    source: String,
    admin: bool,
}

async fn member(conn: &mut Conn, chat: ChatId, person: PersonId) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as("SELECT status, source, admin FROM chat_members WHERE chat_id = $1 AND person_id = $2")
        .bind(chat)
        .bind(person)
        .fetch_optional(&mut *conn)
        .await
}

/// Everyone in the chat who sees it (active or waiting to link).
async fn present_members(conn: &mut Conn, chat: ChatId) -> Result<Vec<PersonId>, sqlx::Error> {
    sqlx::query_scalar("SELECT person_id FROM chat_members WHERE chat_id = $1 AND status <> 'removed_by_hand'")
        .bind(chat)
        .fetch_all(&mut *conn)
        .await
}

fn status_for(linked: bool) -> &'static str {
    if linked { "active" } else { "pending" }
}

fn dedup(people: &[PersonId]) -> Vec<PersonId> {
    let set: BTreeSet<PersonId> = people.iter().copied().collect();
    set.into_iter().collect()
}

/// Refuses the whole request if anyone in it may not be added by `actor`.
async fn check_additions(
    conn: &mut Conn,
    org: OrgId,
    actor: &ActorFacts,
    people: &[PersonId],
) -> Result<(), StorageError> {
    let facts = person_facts(conn, org, people).await?;
    for person in people {
        let f = facts.get(person).cloned().unwrap_or_default();
        rules::may_add(actor, &f).map_err(refused)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- reads

pub(crate) async fn manage_context(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
) -> Result<ManageContext, StorageError> {
    let mut conn = pool.acquire().await?;
    let facts = actor_facts(&mut conn, org, actor).await?;
    rules::may_create(&facts).map_err(refused)?;
    let org_name: String = sqlx::query_scalar("SELECT name FROM orgs WHERE id = $1")
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StorageError::NotFound)?;
    let classes: Vec<NamedId> =
        sqlx::query_as("SELECT id, name FROM classes WHERE org_id = $1 AND active ORDER BY grade, name, id")
            .bind(org)
            .fetch_all(&mut *conn)
            .await?;
    let years: Vec<NamedId> = sqlx::query_as(
        "SELECT y.id, y.title AS name FROM academic_years y \
         WHERE EXISTS (SELECT 1 FROM classes c WHERE c.year_id = y.id AND c.org_id = $1) \
         ORDER BY y.start_date DESC, y.id DESC",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    let subjects: Vec<NamedId> =
        sqlx::query_as("SELECT id, name FROM subjects WHERE org_id = $1 AND active ORDER BY name, id")
            .bind(org)
            .fetch_all(&mut *conn)
            .await?;
    Ok(ManageContext {
        org_id: org,
        org_name,
        administrator: facts.is_administrator(),
        can_create: rules::may_create(&facts).is_ok(),
        classes,
        years,
        subjects,
    })
}

/// Lower-cased, ё as е: how names are compared for search and for the
/// duplicate-name warning.
fn fold(s: &str) -> String {
    roster::search_text(s)
}

pub(crate) async fn managed_chats(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    filter: &ChatFilter,
) -> Result<Vec<ManagedChat>, StorageError> {
    let mut conn = pool.acquire().await?;
    let facts = actor_facts(&mut conn, org, actor).await?;
    rules::may_create(&facts).map_err(refused)?;
    let administrator = facts.is_administrator();
    let state = match filter.state {
        StateFilter::Current => "c.deleted_at IS NULL AND c.state <> 'archived'",
        StateFilter::Archived => "c.deleted_at IS NULL AND c.state = 'archived'",
        StateFilter::Deleted => "c.deleted_at IS NOT NULL",
        StateFilter::All => "TRUE",
    };
    let rows: Vec<ChatRow> = sqlx::query_as(&format!(
        "{CHATS} AND c.purged_at IS NULL AND {state} \
           AND (CAST($3 AS TEXT) IS NULL OR c.kind = CAST($3 AS TEXT)) \
           AND (CAST($4 AS BIGINT) IS NULL OR cl.id = CAST($4 AS BIGINT)) \
           AND (CAST($5 AS BIGINT) IS NULL OR y.id = CAST($5 AS BIGINT)) \
         ORDER BY CASE c.kind WHEN 'custom' THEN 0 WHEN 'staff_room' THEN 1 WHEN 'class' THEN 2 \
           WHEN 'parents' THEN 3 ELSE 4 END, cl.grade, cl.name, c.name, c.id"
    ))
    .bind(org)
    .bind(actor)
    .bind(filter.kind.as_deref())
    .bind(filter.class_id)
    .bind(filter.year_id)
    .fetch_all(&mut *conn)
    .await?;
    let query = filter.query.as_deref().map(fold).filter(|q| !q.is_empty());
    Ok(rows
        .into_iter()
        .filter(|r| administrator || r.mine)
        .filter(|r| query.as_ref().is_none_or(|q| fold(&r.name).contains(q.as_str())))
        .map(|r| r.into_view(administrator))
        .collect())
}

pub(crate) async fn managed_chat(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
) -> Result<ManagedChatDetail, StorageError> {
    let mut conn = pool.acquire().await?;
    let (facts, row) = load(&mut conn, org, actor, chat).await?;
    rules::may_view(&facts, &row.facts()).map_err(refused)?;
    let members: Vec<MemberDetailRow> =
        sqlx::query_as(
            &"SELECT m.person_id AS person, p.last_name, p.first_name, p.middle_name, m.admin, m.admin_overridden, \
               m.source, m.status, m.reasons, \
               (SELECT STRING_AGG(r.role, ',') FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $2) AS roles \
             FROM chat_members m JOIN people p ON p.id = m.person_id WHERE m.chat_id = $1 \
             ORDER BY CASE m.status WHEN 'active' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, m.admin DESC, \
               p.last_name, p.first_name, p.id"
                .replace("STRING_AGG", super::STRING_AGG),
        )
        .bind(chat)
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM chats WHERE org_id = $1 AND id <> $2 AND kind <> 'direct' AND purged_at IS NULL",
    )
    .bind(org)
    .bind(chat)
    .fetch_all(&mut *conn)
    .await?;
    let same_name = same_names(&names, &row.name);
    let members = members
        .into_iter()
        .map(|m| {
            let mut roles: Vec<Role> = m.roles.unwrap_or_default().split(',').filter_map(Role::parse).collect();
            roles.sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
            roles.dedup();
            ManagedMember {
                person: m.person,
                last_name: m.last_name,
                first_name: m.first_name,
                middle_name: m.middle_name,
                roles: roles.into_iter().map(|r| r.as_str().to_string()).collect(),
                admin: m.admin,
                admin_overridden: m.admin_overridden,
                source: m.source,
                status: m.status,
                reasons: m.reasons,
            }
        })
        .collect();
    Ok(ManagedChatDetail { chat: row.into_view(facts.is_administrator()), members, same_name })
}

#[derive(sqlx::FromRow)]
struct MemberDetailRow {
    person: PersonId,
    last_name: String,
    first_name: String,
    middle_name: Option<String>,
    admin: bool,
    admin_overridden: bool,
    source: String,
    status: String,
    reasons: String,
    roles: Option<String>,
}

fn same_names(others: &[String], name: &str) -> i64 {
    let name = fold(name);
    i64::try_from(others.iter().filter(|n| fold(n) == name).count()).unwrap_or(i64::MAX)
}
