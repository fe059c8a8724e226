// Chat management from the school portal: the facts `messenger::manage`
// decides on, the changes, the audit log and the purge. Compiled per backend
// inside `mod chat_admin` of `mod sqlite` and `mod postgres` (see lib.rs).

use crate::{
    AuditEntry, AuditFilter, Candidate, CandidateFilter, Candidates, ChatDraft, ChatEdit, ChatFilter, ManageContext,
    ManageOutcome, ManagedChat, ManagedChatDetail, ManagedMember, NamedId, PURGE_AFTER_SECS, StateFilter, StorageError,
};
use ::messenger::ManageRefusal;
use ::messenger::manage::{self as rules, ActorFacts, ManagedChatFacts, PersonFacts};
use roster::Role;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn refused(r: ManageRefusal) -> StorageError {
    StorageError::ManageRefused(r)
}

/// A write transaction that also holds the organisation's reconciliation lock.
pub(super) async fn begin(pool: &Pool<Db>, org: i64) -> Result<Tx, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    if let Some(lock) = LOCK_ORG {
        sqlx::query(lock).bind(org).execute(&mut *tx).await?;
    }
    Ok(tx)
}

// ---------------------------------------------------------------- facts

pub(super) async fn actor_facts(conn: &mut Conn, org: i64, person: i64) -> Result<ActorFacts, StorageError> {
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT r.role FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.person_id = $1 AND r.org_id = $2 AND p.active",
    )
    .bind(person)
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    let taught: Vec<(Option<i64>, Option<i64>)> = sqlx::query_as(
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
    scope: i64,
    people: &[i64],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let mut rows = Vec::new();
    for chunk in people.chunks(500) {
        let mut q = QueryBuilder::<Db>::new("");
        for (i, part) in sql.split("{scope}").enumerate() {
            if i > 0 {
                q.push_bind(scope);
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
async fn person_facts(conn: &mut Conn, org: i64, people: &[i64]) -> Result<HashMap<i64, PersonFacts>, StorageError> {
    let mut facts: HashMap<i64, PersonFacts> = people.iter().map(|&p| (p, PersonFacts::default())).collect();
    if people.is_empty() {
        return Ok(facts);
    }
    let roles: Vec<(i64, String)> = rows_for(
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
    let as_student: Vec<(i64, Option<i64>, Option<i64>)> = rows_for(conn, LINKS, "e.person_id", org, people).await?;
    let as_parent: Vec<(i64, Option<i64>, Option<i64>)> = rows_for(
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
async fn linked_people(conn: &mut Conn, org: i64, people: &[i64]) -> Result<BTreeSet<i64>, StorageError> {
    let rows: Vec<(i64,)> =
        rows_for(conn, "SELECT l.person_id FROM profile_links l WHERE l.org_id = {scope}", "l.person_id", org, people)
            .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: i64,
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
    class_id: Option<i64>,
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

async fn chat_row(conn: &mut Conn, org: i64, actor: i64, chat: i64) -> Result<ChatRow, StorageError> {
    sqlx::query_as(&format!("{CHATS} AND c.id = $3"))
        .bind(org)
        .bind(actor)
        .bind(chat)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StorageError::NotFound)
}

/// The actor and the chat, with the chat checked to be in the organisation.
async fn load(conn: &mut Conn, org: i64, actor: i64, chat: i64) -> Result<(ActorFacts, ChatRow), StorageError> {
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
    org: i64,
    actor: i64,
    chat: i64,
    rule: Rule,
) -> Result<(Tx, ActorFacts, ChatRow), StorageError> {
    let mut tx = begin(pool, org).await?;
    let (facts, row) = load(&mut tx, org, actor, chat).await?;
    rule(&facts, &row.facts()).map_err(refused)?;
    Ok((tx, facts, row))
}

/// Commits a change every member sees (a rename, an archive, a delete).
async fn commit_for_members(mut tx: Tx, chat: i64) -> Result<ManageOutcome, StorageError> {
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

async fn member(conn: &mut Conn, chat: i64, person: i64) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as("SELECT status, source, admin FROM chat_members WHERE chat_id = $1 AND person_id = $2")
        .bind(chat)
        .bind(person)
        .fetch_optional(&mut *conn)
        .await
}

/// Everyone in the chat who sees it (active or waiting to link).
async fn present_members(conn: &mut Conn, chat: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT person_id FROM chat_members WHERE chat_id = $1 AND status <> 'removed_by_hand'")
        .bind(chat)
        .fetch_all(&mut *conn)
        .await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn audit(
    tx: &mut Tx,
    org: i64,
    chat: i64,
    actor: Option<i64>,
    action: &str,
    person: Option<i64>,
    before: Value,
    after: Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_audit (org_id, chat_id, actor_person_id, action, person_id, before, after, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(org)
    .bind(chat)
    .bind(actor)
    .bind(action)
    .bind(person)
    .bind(before.to_string())
    .bind(after.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn status_for(linked: bool) -> &'static str {
    if linked { "active" } else { "pending" }
}

fn dedup(people: &[i64]) -> Vec<i64> {
    let set: BTreeSet<i64> = people.iter().copied().collect();
    set.into_iter().collect()
}

/// Refuses the whole request if anyone in it may not be added by `actor`.
async fn check_additions(conn: &mut Conn, org: i64, actor: &ActorFacts, people: &[i64]) -> Result<(), StorageError> {
    let facts = person_facts(conn, org, people).await?;
    for person in people {
        let f = facts.get(person).cloned().unwrap_or_default();
        rules::may_add(actor, &f).map_err(refused)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- reads

pub(crate) async fn manage_context(pool: &Pool<Db>, org: i64, actor: i64) -> Result<ManageContext, StorageError> {
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
    org: i64,
    actor: i64,
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
    org: i64,
    actor: i64,
    chat: i64,
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
    person: i64,
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

// ---------------------------------------------------------------- changes

pub(crate) async fn create_chat(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    draft: &ChatDraft,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let mut tx = begin(pool, org).await?;
    let facts = actor_facts(&mut tx, org, actor).await?;
    rules::may_create(&facts).map_err(refused)?;
    let available: Option<bool> =
        sqlx::query_scalar("SELECT chats_enabled AND kind = 'general_education' FROM orgs WHERE id = $1 AND active")
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
    if available != Some(true) {
        return Err(refused(ManageRefusal::ChatsUnavailable));
    }
    let others: Vec<i64> = dedup(&draft.members).into_iter().filter(|&p| p != actor).collect();
    check_additions(&mut tx, org, &facts, &others).await?;
    let everyone: Vec<i64> = std::iter::once(actor).chain(others.iter().copied()).collect();
    let linked = linked_people(&mut tx, org, &everyone).await?;

    let chat: i64 = sqlx::query_scalar(
        "INSERT INTO chats (org_id, kind, name, description, announcement_only, created_at) \
         VALUES ($1, 'custom', $2, $3, $4, $5) RETURNING id",
    )
    .bind(org)
    .bind(draft.name.as_str())
    .bind(draft.description.as_str())
    .bind(draft.announcement_only)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let after = json!({
        "name": draft.name.as_str(),
        "description": draft.description.as_str(),
        "announcement_only": draft.announcement_only,
    });
    audit(&mut tx, org, chat, Some(actor), "create", None, json!({}), after, now).await?;
    for &person in &everyone {
        let admin = person == actor;
        let status = status_for(linked.contains(&person));
        sqlx::query(
            "INSERT INTO chat_members (chat_id, person_id, admin, source, status) VALUES ($1, $2, $3, 'manual', $4)",
        )
        .bind(chat)
        .bind(person)
        .bind(admin)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        let after = json!({ "status": status, "admin": admin });
        audit(&mut tx, org, chat, Some(actor), "add_member", Some(person), json!({}), after, now).await?;
    }
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people: everyone })
}

pub(crate) async fn edit_chat(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    edit: &ChatEdit,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_manage).await?;
    if row.version != edit.version {
        return Err(refused(ManageRefusal::Changed));
    }
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    let name = edit.name.as_ref().map(|n| n.as_str()).filter(|n| *n != row.name);
    if let Some(name) = name {
        before.insert("name".into(), json!(row.name));
        after.insert("name".into(), json!(name));
    }
    let description = edit.description.as_ref().map(|d| d.as_str()).filter(|d| *d != row.description);
    if let Some(description) = description {
        before.insert("description".into(), json!(row.description));
        after.insert("description".into(), json!(description));
    }
    let announcement_only = edit.announcement_only.filter(|a| *a != row.announcement_only);
    if let Some(a) = announcement_only {
        before.insert("announcement_only".into(), json!(row.announcement_only));
        after.insert("announcement_only".into(), json!(a));
    }
    if after.is_empty() {
        tx.rollback().await?;
        return Ok(ManageOutcome { chat_id: chat, people: Vec::new() });
    }
    sqlx::query(
        "UPDATE chats SET name = COALESCE($1, name), description = COALESCE($2, description), \
         announcement_only = COALESCE($3, announcement_only), \
         name_overridden = name_overridden OR ($1 IS NOT NULL AND kind <> 'custom'), version = version + 1 \
         WHERE id = $4",
    )
    .bind(name)
    .bind(description)
    .bind(announcement_only)
    .bind(chat)
    .execute(&mut *tx)
    .await?;
    audit(&mut tx, org, chat, Some(actor), "edit", None, Value::Object(before), Value::Object(after), now).await?;
    commit_for_members(tx, chat).await
}

pub(crate) async fn set_archived(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    archived: bool,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_manage).await?;
    if (row.state == "archived") == archived {
        tx.rollback().await?;
        return Ok(ManageOutcome { chat_id: chat, people: Vec::new() });
    }
    let to = if archived { "archived" } else { "live" };
    sqlx::query("UPDATE chats SET state = $1, archived_by_hand = $2, version = version + 1 WHERE id = $3")
        .bind(to)
        .bind(archived)
        .bind(chat)
        .execute(&mut *tx)
        .await?;
    let action = if archived { "archive" } else { "unarchive" };
    audit(&mut tx, org, chat, Some(actor), action, None, json!({ "state": row.state }), json!({ "state": to }), now)
        .await?;
    commit_for_members(tx, chat).await
}

pub(crate) async fn delete_chat(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_delete).await?;
    // Hidden like a chat of a school without chats: out of every member's
    // reach at once, nothing erased until the purge.
    sqlx::query(
        "UPDATE chats SET state_before_delete = state, state = 'read_only_hidden', deleted_at = $1, \
         version = version + 1 WHERE id = $2",
    )
    .bind(now)
    .bind(chat)
    .execute(&mut *tx)
    .await?;
    let after = json!({ "deleted_at": now, "purge_at": now + PURGE_AFTER_SECS });
    audit(&mut tx, org, chat, Some(actor), "delete", None, json!({ "state": row.state }), after, now).await?;
    commit_for_members(tx, chat).await
}

pub(crate) async fn restore_chat(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_restore).await?;
    let to: String = sqlx::query_scalar(
        "UPDATE chats SET state = COALESCE(state_before_delete, 'live'), state_before_delete = NULL, \
         deleted_at = NULL, version = version + 1 WHERE id = $1 RETURNING state",
    )
    .bind(chat)
    .fetch_one(&mut *tx)
    .await?;
    audit(
        &mut tx,
        org,
        chat,
        Some(actor),
        "restore",
        None,
        json!({ "deleted_at": row.deleted_at }),
        json!({ "state": to }),
        now,
    )
    .await?;
    commit_for_members(tx, chat).await
}

pub(crate) async fn add_members(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    people: &[i64],
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, facts, _) = change(pool, org, actor, chat, rules::may_manage).await?;
    let people = dedup(people);
    check_additions(&mut tx, org, &facts, &people).await?;
    let existing: Vec<(i64, String)> = rows_for(
        &mut tx,
        "SELECT m.person_id, m.status FROM chat_members m WHERE m.chat_id = {scope}",
        "m.person_id",
        chat,
        &people,
    )
    .await?;
    let existing: HashMap<i64, String> = existing.into_iter().collect();
    if existing.values().any(|s| s != "removed_by_hand") {
        return Err(refused(ManageRefusal::AlreadyMember));
    }
    let linked = linked_people(&mut tx, org, &people).await?;
    for &person in &people {
        let status = status_for(linked.contains(&person));
        // Someone removed by hand comes back as a manual member: staff, not the
        // roster, decide about them from now on.
        sqlx::query(
            "INSERT INTO chat_members (chat_id, person_id, admin, source, status) VALUES ($1, $2, FALSE, 'manual', $3) \
             ON CONFLICT (chat_id, person_id) DO UPDATE SET admin = FALSE, source = 'manual', status = $3",
        )
        .bind(chat)
        .bind(person)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        let before = existing.get(&person).map_or_else(|| json!({}), |s| json!({ "status": s }));
        audit(&mut tx, org, chat, Some(actor), "add_member", Some(person), before, json!({ "status": status }), now)
            .await?;
    }
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people })
}

pub(crate) async fn remove_member(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    person: i64,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_manage).await?;
    let m = member(&mut tx, chat, person).await?.filter(|m| m.status != "removed_by_hand");
    let m = m.ok_or(refused(ManageRefusal::NotAMember))?;
    rules::keeps_an_admin(usize::try_from(row.admins).unwrap_or(0), m.admin).map_err(refused)?;
    if row.kind == "custom" {
        sqlx::query("DELETE FROM chat_members WHERE chat_id = $1 AND person_id = $2")
            .bind(chat)
            .bind(person)
            .execute(&mut *tx)
            .await?;
    } else {
        // The roster would put them back: the row stays, saying "kept out".
        sqlx::query(
            "UPDATE chat_members SET status = 'removed_by_hand', admin = FALSE WHERE chat_id = $1 AND person_id = $2",
        )
        .bind(chat)
        .bind(person)
        .execute(&mut *tx)
        .await?;
    }
    let before = json!({ "status": m.status, "source": m.source, "admin": m.admin });
    audit(&mut tx, org, chat, Some(actor), "remove_member", Some(person), before, json!({}), now).await?;
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people: vec![person] })
}

pub(crate) async fn set_admin(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    person: i64,
    admin: bool,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_manage).await?;
    let m = member(&mut tx, chat, person).await?.filter(|m| m.status != "removed_by_hand");
    let m = m.ok_or(refused(ManageRefusal::NotAMember))?;
    if m.admin == admin {
        tx.rollback().await?;
        return Ok(ManageOutcome { chat_id: chat, people: Vec::new() });
    }
    if !admin {
        rules::keeps_an_admin(usize::try_from(row.admins).unwrap_or(0), true).map_err(refused)?;
    }
    sqlx::query("UPDATE chat_members SET admin = $1, admin_overridden = $2 WHERE chat_id = $3 AND person_id = $4")
        .bind(admin)
        // In an automatic chat the roster would undo it.
        .bind(row.kind != "custom")
        .bind(chat)
        .bind(person)
        .execute(&mut *tx)
        .await?;
    let action = if admin { "appoint_admin" } else { "revoke_admin" };
    audit(
        &mut tx,
        org,
        chat,
        Some(actor),
        action,
        Some(person),
        json!({ "admin": m.admin }),
        json!({ "admin": admin }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people: vec![person] })
}

// ---------------------------------------------------------------- candidates

/// How many people the SQL filters hand to the reach rule at most.
const CANDIDATE_SCAN: i64 = 5_000;

pub(crate) async fn candidates(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    filter: &CandidateFilter,
) -> Result<Candidates, StorageError> {
    let mut conn = pool.acquire().await?;
    let facts = actor_facts(&mut conn, org, actor).await?;
    rules::may_create(&facts).map_err(refused)?;
    let chat_members: HashMap<i64, String> = match filter.chat_id {
        Some(chat) => {
            let row = chat_row(&mut conn, org, actor, chat).await?;
            rules::may_manage(&facts, &row.facts()).map_err(refused)?;
            let rows: Vec<(i64, String)> =
                sqlx::query_as("SELECT person_id, status FROM chat_members WHERE chat_id = $1")
                    .bind(chat)
                    .fetch_all(&mut *conn)
                    .await?;
            rows.into_iter().collect()
        }
        None => HashMap::new(),
    };
    let query = filter.query.as_deref().map(|q| format!("%{}%", fold(q).replace(['%', '_'], "")));
    // A class: its students, their parents and everyone who teaches there,
    // each as the role asked for ("parents of 7Б" are not its teachers who
    // happen to be parents elsewhere).
    const STUDENT_OF: &str = "EXISTS (SELECT 1 FROM enrollments e WHERE e.person_id = p.id AND e.active \
         AND e.role = 'student' AND e.class_id = CAST($4 AS BIGINT))";
    const TEACHER_OF: &str = "(EXISTS (SELECT 1 FROM enrollments e WHERE e.person_id = p.id AND e.active \
         AND e.role = 'teacher' AND e.class_id = CAST($4 AS BIGINT)) \
         OR EXISTS (SELECT 1 FROM enrollments e JOIN sections s ON s.id = e.section_id \
         WHERE e.person_id = p.id AND e.active AND e.role = 'teacher' AND s.active AND s.class_id = CAST($4 AS BIGINT)))";
    const PARENT_OF: &str = "EXISTS (SELECT 1 FROM guardianships g JOIN enrollments e ON e.person_id = g.student_id \
         WHERE g.guardian_id = p.id AND e.active AND e.role = 'student' AND e.class_id = CAST($4 AS BIGINT))";
    let in_class = match filter.role {
        Some(Role::Student) => STUDENT_OF.to_string(),
        Some(Role::Guardian) => PARENT_OF.to_string(),
        Some(_) => TEACHER_OF.to_string(),
        None => format!("({STUDENT_OF} OR {TEACHER_OF} OR {PARENT_OF})"),
    };
    // A subject: its teachers and the students who take it.
    let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM people p WHERE p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1 \
                     AND (CAST($2 AS TEXT) IS NULL OR r.role = CAST($2 AS TEXT))) \
         AND (CAST($3 AS TEXT) IS NULL OR p.search_key LIKE CAST($3 AS TEXT)) \
         AND (CAST($4 AS BIGINT) IS NULL OR {in_class}) \
         AND (CAST($5 AS BIGINT) IS NULL \
           OR EXISTS (SELECT 1 FROM enrollments e JOIN sections s ON s.id = e.section_id \
                      WHERE e.person_id = p.id AND e.active AND s.active AND s.subject_id = CAST($5 AS BIGINT)) \
           OR EXISTS (SELECT 1 FROM enrollments e JOIN sections s ON s.class_id = e.class_id \
                      WHERE e.person_id = p.id AND e.active AND e.role = 'student' AND s.active \
                      AND s.group_name IS NULL AND s.subject_id = CAST($5 AS BIGINT))) \
         ORDER BY p.last_name, p.first_name, p.middle_name, p.id LIMIT $6"
    ))
    .bind(org)
    .bind(filter.role.map(Role::as_str))
    .bind(query)
    .bind(filter.class_id)
    .bind(filter.subject_id)
    .bind(CANDIDATE_SCAN)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let people = person_facts(&mut conn, org, &ids).await?;
    let linked = linked_people(&mut conn, org, &ids).await?;
    let classes: BTreeMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM classes WHERE org_id = $1")
            .bind(org)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let mut out = Vec::new();
    let mut truncated = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= CANDIDATE_SCAN;
    for (id, last_name, first_name, middle_name) in rows {
        let Some(f) = people.get(&id) else { continue };
        if rules::may_add(&facts, f).is_err() {
            continue;
        }
        if out.len() >= filter.limit {
            truncated = true;
            break;
        }
        let mut roles: Vec<Role> = f.roles.iter().copied().collect();
        roles.sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
        out.push(Candidate {
            id,
            last_name,
            first_name,
            middle_name,
            roles: roles.into_iter().map(|r| r.as_str().to_string()).collect(),
            classes: f.classes.iter().filter_map(|c| classes.get(c).cloned()).collect(),
            linked: linked.contains(&id),
            member: chat_members.get(&id).cloned(),
        });
    }
    Ok(Candidates { people: out, truncated })
}

// ---------------------------------------------------------------- audit

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    chat_id: i64,
    chat_name: String,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    action: String,
    person_id: Option<i64>,
    person_name: Option<String>,
    before: String,
    after: String,
}

pub(crate) async fn audit_log(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, StorageError> {
    let mut conn = pool.acquire().await?;
    let facts = actor_facts(&mut conn, org, actor).await?;
    rules::may_read_audit(&facts).map_err(refused)?;
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.id, a.at, a.chat_id, c.name AS chat_name, a.actor_person_id AS actor_id, \
           ap.last_name || ' ' || ap.first_name AS actor_name, a.action, a.person_id, \
           pp.last_name || ' ' || pp.first_name AS person_name, a.before, a.after \
         FROM chat_audit a JOIN chats c ON c.id = a.chat_id \
         LEFT JOIN people ap ON ap.id = a.actor_person_id LEFT JOIN people pp ON pp.id = a.person_id \
         WHERE a.org_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR a.chat_id = CAST($2 AS BIGINT)) \
           AND (CAST($3 AS BIGINT) IS NULL OR a.actor_person_id = CAST($3 AS BIGINT)) \
           AND (CAST($4 AS TEXT) IS NULL OR a.action = CAST($4 AS TEXT)) \
           AND (CAST($5 AS BIGINT) IS NULL OR a.at >= CAST($5 AS BIGINT)) \
           AND (CAST($6 AS BIGINT) IS NULL OR a.at < CAST($6 AS BIGINT)) \
         ORDER BY a.id DESC LIMIT $7 OFFSET $8",
    )
    .bind(org)
    .bind(filter.chat_id)
    .bind(filter.actor_id)
    .bind(filter.action.as_deref())
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(&mut *conn)
    .await?;
    let parse = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            chat_id: r.chat_id,
            chat_name: r.chat_name,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            person_id: r.person_id,
            person_name: r.person_name,
            before: parse(&r.before),
            after: parse(&r.after),
        })
        .collect())
}

// ---------------------------------------------------------------- purge

/// Erases a chat's messages, log, reactions, edits, search terms, calls,
/// reports, scheduled messages and members; the row stays for the audit log, where `action` says
/// why it went (a deleted chat's purge, or the school's retention).
pub(super) async fn purge_chat(tx: &mut Tx, org: i64, chat: i64, action: &str, now: i64) -> Result<(), StorageError> {
    // The search index forgets each message the way a delete does.
    let messages: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE chat_id = $1").bind(chat).fetch_all(&mut **tx).await?;
    for message in messages {
        super::search::unindex(tx, message).await?;
    }
    // Attachments go with their messages (ON DELETE CASCADE); the file
    // collector deletes the bytes nothing refers to any more.
    for sql in [
        "DELETE FROM message_reactions WHERE message_id IN (SELECT id FROM messages WHERE chat_id = $1)",
        "DELETE FROM message_edits WHERE message_id IN (SELECT id FROM messages WHERE chat_id = $1)",
        // Reports refer to the messages they copied; the copies go with them.
        "DELETE FROM message_reports WHERE chat_id = $1",
        "DELETE FROM chat_events WHERE chat_id = $1",
        "DELETE FROM scheduled_messages WHERE chat_id = $1",
        "UPDATE messages SET reply_to = NULL WHERE chat_id = $1",
        "DELETE FROM messages WHERE chat_id = $1",
        // Calls after their record messages, which refer to them.
        "DELETE FROM call_participants WHERE call_id IN (SELECT id FROM calls WHERE chat_id = $1)",
        "DELETE FROM calls WHERE chat_id = $1",
        "DELETE FROM chat_members WHERE chat_id = $1",
        "UPDATE chats SET description = '' WHERE id = $1",
    ] {
        sqlx::query(sql).bind(chat).execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE chats SET purged_at = $1 WHERE id = $2").bind(now).bind(chat).execute(&mut **tx).await?;
    audit(tx, org, chat, None, action, None, json!({}), json!({ "purged_at": now }), now).await?;
    Ok(())
}

pub(crate) async fn purge_deleted(pool: &Pool<Db>, now: i64) -> Result<Vec<(i64, i64)>, StorageError> {
    const DUE: &str = "SELECT org_id, id FROM chats WHERE deleted_at IS NOT NULL AND purged_at IS NULL \
         AND deleted_at <= $1 ORDER BY id";
    let cutoff = now - PURGE_AFTER_SECS;
    // Nearly always nothing is due: find out without taking the write lock.
    let due: Vec<(i64, i64)> = sqlx::query_as(DUE).bind(cutoff).fetch_all(pool).await?;
    if due.is_empty() {
        return Ok(due);
    }
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let due: Vec<(i64, i64)> = sqlx::query_as(DUE).bind(cutoff).fetch_all(&mut *tx).await?;
    for &(org, chat) in &due {
        purge_chat(&mut tx, org, chat, "purge", now).await?;
    }
    tx.commit().await?;
    Ok(due)
}
