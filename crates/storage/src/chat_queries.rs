// Automatic chats: loading an organisation's snapshot and chats, and applying
// the reconciler's plan. Compiled per backend inside `mod chats` of `mod sqlite`
// and `mod postgres` (see lib.rs), together with chat_snapshot_queries.rs (the
// reads) and chat_apply_queries.rs (the writes), which use the imports here.
// This file: loading what a reconciliation plans from, and the entry points.
//
// Reading is most of a reconciliation, and on SQLite most of reading is the
// driver's cost per row (a copy of every value and a hand-over between threads),
// not the database's: so a query of many small rows is folded into one text
// value in SQL (`aggregated`) and split in Rust (chat_snapshot_queries.rs).
// Writing goes many rows per statement (chat_apply_queries.rs).

use crate::chats_store::Scope;
use crate::{ChatListItem, Run, StorageError};
use ::provisioning::{
    ActualChat, ActualMember, ChatKey, ChatState, ClassFacts, DesiredChat, MemberStatus, NameTemplates, OrgSnapshot,
    PersonFacts, Plan, SectionFacts, Source,
};
use roster::ids::PersonId;
use roster::{OrgKind, Role};
use sqlx::QueryBuilder;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ---------------------------------------------------------------- loading

/// What a reconciliation plans from: the roster facts, the chats as they are,
/// and, for a scoped one, the keys of the chats it may change.
struct Loaded {
    snapshot: OrgSnapshot,
    /// The chats the rules call for, when already derived during the reads.
    desired: Option<Vec<DesiredChat>>,
    actual: Vec<ActualChat>,
    keys: Option<BTreeSet<ChatKey>>,
}

/// Reads everything the rules need, inside the transaction that will apply the
/// plan, so the plan matches what it changes.
async fn load(tx: &mut Tx, org: i64, scope: Scope<'_>) -> Result<Loaded, StorageError> {
    let (kind, chats_enabled): (String, bool) =
        sqlx::query_as("SELECT kind, chats_enabled FROM orgs WHERE id = $1 AND active")
            .bind(org)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StorageError::NotFound)?;
    let current_year: Option<i64> = sqlx::query_scalar(
        "SELECT y.id FROM academic_years y WHERE y.active \
         AND EXISTS (SELECT 1 FROM classes c WHERE c.org_id = $1 AND c.year_id = y.id AND c.active) \
         ORDER BY y.start_date DESC, y.id DESC LIMIT 1",
    )
    .bind(org)
    .fetch_optional(&mut **tx)
    .await?;
    let heads = chat_heads(tx, org).await?;
    let mut snapshot = OrgSnapshot {
        org_id: org,
        kind: OrgKind::parse(&kind).unwrap_or(OrgKind::Other),
        chats_enabled,
        current_year,
        people: Vec::new(),
        classes: Vec::new(),
        class_teachers: Vec::new(),
        students: Vec::new(),
        sections: Vec::new(),
        guardianships: Vec::new(),
        templates: NameTemplates::default(),
    };
    match scope {
        Scope::Org => {
            snapshot.people = people_with_roles(tx, org).await?;
            snapshot.classes = class_facts(tx, org, "TRUE", true).await?;
            snapshot.class_teachers = in_classes(tx, org, "e.role = 'teacher' AND e.is_primary", true).await?;
            snapshot.students = in_classes(tx, org, "e.role = 'student'", true).await?;
            snapshot.sections = section_facts(tx, org, ORG_SECTIONS, true).await?;
            snapshot.guardianships = guardianships(tx, org, "TRUE", true).await?;
            // The rules run while the database reads the members. They need only
            // the people with a role here; the others, in a chat without one
            // (a manual member who left), matter to the plan alone.
            let (members, desired) = futures_util::future::join(members(tx, org, "TRUE", true), async {
                ::provisioning::desired(&snapshot)
            })
            .await;
            let members = members?;
            let known: BTreeSet<i64> = snapshot.people.iter().map(|p| p.person_id).collect();
            let others: BTreeSet<i64> =
                members.values().flat_map(|m| m.keys().copied()).filter(|p| !known.contains(p)).collect();
            if !others.is_empty() {
                snapshot.people.extend(people_facts(tx, org, &format!("p.id IN ({})", id_list(others))).await?);
            }
            Ok(Loaded { snapshot, desired: Some(desired), actual: actual_chats(heads, members), keys: None })
        }
        Scope::People(people) => {
            let keys = scope_keys(tx, org, people, &heads, current_year).await?;
            load_scope(tx, org, snapshot, heads, keys).await
        }
    }
}

/// The chats `people` are members of or belong in: their class, parents and
/// subject chats (a student's class comes with all its subjects, a guardian's
/// child's class with its parents chat) and, for an employee, the staff room.
/// A class chat always comes with its parents chat, so that a student's
/// guardians follow them. Extra keys cost time, never correctness: each chat in
/// scope is read and planned in full.
async fn scope_keys(
    tx: &mut Tx,
    org: i64,
    people: &[PersonId],
    heads: &[ChatHead],
    current_year: Option<i64>,
) -> Result<BTreeSet<ChatKey>, StorageError> {
    let who = id_list(people.iter().copied().map(i64::from));
    let member_of = id_set(
        tx,
        org,
        &format!(
            "SELECT CAST(m.chat_id AS TEXT) AS x FROM chat_members m JOIN chats c ON c.id = m.chat_id \
             WHERE m.person_id IN ({who}) AND c.org_id = $1"
        ),
    )
    .await?;
    let mut keys: BTreeSet<ChatKey> = heads.iter().filter(|h| member_of.contains(&h.id)).map(|h| h.key).collect();
    let class_of = |who: &str, roles: &str| {
        format!(
            "SELECT CAST(e.class_id AS TEXT) AS x FROM enrollments e JOIN classes c ON c.id = e.class_id \
             WHERE c.org_id = $1 AND e.active AND e.person_id IN ({who}) AND ({roles})"
        )
    };
    let studies_in = id_set(tx, org, &class_of(&who, "e.role = 'student'")).await?;
    let teaches = id_set(tx, org, &class_of(&who, "e.role = 'teacher' AND e.is_primary")).await?;
    let children = id_set(
        tx,
        org,
        &format!(
            "SELECT CAST(g.student_id AS TEXT) AS x FROM guardianships g WHERE g.guardian_id IN ({who}) \
             AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = g.student_id AND r.org_id = $1)"
        ),
    )
    .await?;
    let children_in = id_set(tx, org, &class_of(&id_list(children), "e.role = 'student'")).await?;
    let sections = id_set(
        tx,
        org,
        &format!(
            "SELECT CAST(e.section_id AS TEXT) AS x FROM enrollments e JOIN sections s ON s.id = e.section_id \
             WHERE s.org_id = $1 AND e.active AND e.person_id IN ({who}) \
             UNION SELECT CAST(s.id AS TEXT) FROM sections s WHERE s.org_id = $1 AND s.class_id IN ({})",
            id_list(studies_in.iter().copied())
        ),
    )
    .await?;
    let employees = id_set(
        tx,
        org,
        &format!(
            "SELECT CAST(r.person_id AS TEXT) AS x FROM person_roles r \
             WHERE r.org_id = $1 AND r.person_id IN ({who}) AND r.role IN {EMPLOYEE_ROLES}"
        ),
    )
    .await?;
    for &class_id in studies_in.iter().chain(&teaches).chain(&children_in) {
        keys.insert(ChatKey::Class { class_id });
    }
    keys.extend(sections.iter().map(|&section_id| ChatKey::Subject { section_id }));
    if !employees.is_empty() {
        keys.insert(ChatKey::StaffRoom { year: current_year });
    }
    let classes: Vec<i64> = keys
        .iter()
        .filter_map(|k| match k {
            ChatKey::Class { class_id } | ChatKey::Parents { class_id } => Some(*class_id),
            _ => None,
        })
        .collect();
    for class_id in classes {
        keys.insert(ChatKey::Class { class_id });
        keys.insert(ChatKey::Parents { class_id });
    }
    Ok(keys)
}

/// Reads the chats `keys` and every roster fact they depend on, completely:
/// for a class or parents chat its class's students, class teachers and the
/// students' guardians; for a subject chat its section and its class's
/// students; for a staff room every employee; for everyone in these chats their
/// roles, link and current classes (where a student who left went).
async fn load_scope(
    tx: &mut Tx,
    org: i64,
    mut snapshot: OrgSnapshot,
    mut heads: Vec<ChatHead>,
    keys: BTreeSet<ChatKey>,
) -> Result<Loaded, StorageError> {
    heads.retain(|h| keys.contains(&h.key));
    let chat_ids = id_list(heads.iter().map(|h| h.id));
    let members = members(tx, org, &format!("c.id IN ({chat_ids})"), false).await?;
    let in_chats: BTreeSet<i64> = members.values().flat_map(|m| m.keys().copied()).collect();

    let mut chat_classes = BTreeSet::new();
    let mut section_ids = BTreeSet::new();
    let mut staff_room = false;
    for key in &keys {
        match *key {
            ChatKey::Class { class_id } | ChatKey::Parents { class_id } => {
                chat_classes.insert(class_id);
            }
            ChatKey::Subject { section_id } => {
                section_ids.insert(section_id);
            }
            ChatKey::StaffRoom { .. } => staff_room = true,
        }
    }
    let sections = id_list(section_ids);
    snapshot.sections =
        section_facts(tx, org, &format!("s.org_id = $1 AND s.active AND s.id IN ({sections})"), false).await?;
    // Classes whose students are needed in full: those of the class and parents
    // chats, and those of the subject chats (a section without a group is the
    // whole class).
    let full: BTreeSet<i64> =
        chat_classes.iter().copied().chain(snapshot.sections.iter().filter_map(|s| s.class_id)).collect();
    let full_list = id_list(full.iter().copied());
    snapshot.students = in_classes(
        tx,
        org,
        &format!(
            "e.role = 'student' AND (e.class_id IN ({full_list}) OR e.person_id IN ({}))",
            id_list(in_chats.iter().copied())
        ),
        false,
    )
    .await?;
    snapshot.class_teachers =
        in_classes(tx, org, &format!("e.role = 'teacher' AND e.is_primary AND e.class_id IN ({full_list})"), false)
            .await?;
    let parents_of = id_list(snapshot.students.iter().filter(|(c, _)| chat_classes.contains(c)).map(|&(_, p)| p));
    snapshot.guardianships = guardianships(tx, org, &format!("r.person_id IN ({parents_of})"), false).await?;
    let classes: BTreeSet<i64> = full.iter().copied().chain(snapshot.students.iter().map(|&(c, _)| c)).collect();
    snapshot.classes = class_facts(tx, org, &format!("c.id IN ({})", id_list(classes)), false).await?;

    let mut people: BTreeSet<i64> = in_chats;
    people.extend(snapshot.students.iter().map(|&(_, p)| p));
    people.extend(snapshot.class_teachers.iter().map(|&(_, p)| p));
    people.extend(snapshot.guardianships.iter().map(|&(g, _)| g));
    for section in &snapshot.sections {
        people.extend(section.teachers.iter().chain(&section.group_students));
    }
    // As for the whole organisation: people with a role here or in one of its chats.
    let mut who = format!(
        "p.id IN ({}) AND (EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1) \
         OR EXISTS (SELECT 1 FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.person_id = p.id AND c.org_id = $1))",
        id_list(people)
    );
    if staff_room {
        who = format!(
            "({who}) OR p.id IN (SELECT r.person_id FROM person_roles r WHERE r.org_id = $1 AND r.role IN {EMPLOYEE_ROLES})"
        );
    }
    snapshot.people = people_facts(tx, org, &who).await?;
    Ok(Loaded { snapshot, desired: None, actual: actual_chats(heads, members), keys: Some(keys) })
}

/// Reconciles one organisation's chats in `scope`: plans from a consistent read
/// and, unless it is a [`Run::DryRun`], applies the plan in the same transaction. Concurrent
/// reconciliations of one organisation queue on a write lock.
pub(crate) async fn reconcile(
    pool: &Pool<Db>,
    org: i64,
    scope: Scope<'_>,
    run: Run,
    now: i64,
) -> Result<Plan, StorageError> {
    let started = std::time::Instant::now();
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    if let Some(lock) = LOCK_ORG {
        sqlx::query(lock).bind(org).execute(&mut *tx).await?;
    }
    let Loaded { snapshot, desired, actual, keys } = load(&mut tx, org, scope).await?;
    let read = started.elapsed();
    let mut desired = desired.unwrap_or_else(|| ::provisioning::desired(&snapshot));
    if let Some(keys) = &keys {
        // The snapshot is complete for these chats only.
        desired.retain(|chat| keys.contains(&chat.key));
    }
    let plan = ::provisioning::plan(&desired, &actual, &snapshot);
    let planned = started.elapsed();
    if run == Run::DryRun || plan.is_empty() {
        tx.rollback().await?;
    } else {
        apply(&mut tx, &plan, now).await?;
        tx.commit().await?;
    }
    // Where the time goes, for `parta-bench provision` and slow-server hunts.
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    tracing::debug!(
        org,
        scoped = keys.as_ref().map(BTreeSet::len),
        chats = actual.len(),
        changes = plan.change_count(),
        read_ms = ms(read),
        plan_ms = ms(planned - read),
        write_ms = ms(started.elapsed() - planned),
        "reconciled"
    );
    Ok(plan)
}

/// The live chats a person is an active member of in an organisation.
pub(crate) async fn person_chats(pool: &Pool<Db>, org: i64, person: i64) -> Result<Vec<ChatListItem>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.kind, c.name, m.admin, \
           (SELECT COUNT(*) FROM chat_members x WHERE x.chat_id = c.id AND x.status = 'active') AS members \
         FROM chats c JOIN chat_members m ON m.chat_id = c.id \
         WHERE c.org_id = $1 AND m.person_id = $2 AND m.status = 'active' AND c.state = 'live' \
         ORDER BY CASE c.kind WHEN 'staff_room' THEN 0 WHEN 'class' THEN 1 WHEN 'parents' THEN 2 ELSE 3 END, c.name, c.id",
    )
    .bind(org)
    .bind(person)
    .fetch_all(pool)
    .await?)
}
