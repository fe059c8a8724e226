// Automatic chats: loading an organisation's snapshot and chats, and applying
// the reconciler's plan. Compiled per backend inside `mod chats` of `mod sqlite`
// and `mod postgres` (see lib.rs).

use crate::{ChatListItem, StorageError};
use ::provisioning::{
    ActualChat, ActualMember, ChatKey, ChatState, ClassFacts, MemberStatus, NameTemplates, OrgSnapshot, PersonFacts,
    Plan, SectionFacts, Source,
};
use roster::{OrgKind, Role};
use std::collections::{BTreeMap, HashMap};

/// Reads everything the rules need about one organisation, inside the
/// transaction that will apply the plan, so the plan matches what it changes.
async fn snapshot(tx: &mut Tx, org: i64) -> Result<OrgSnapshot, StorageError> {
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

    // Everyone with a role here, and everyone already in one of its chats.
    let people: Vec<(i64, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT p.id, p.last_name || ' ' || p.first_name AS name, \
           (SELECT STRING_AGG(r.role, ',') FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1) AS roles, \
           EXISTS (SELECT 1 FROM profile_links l WHERE l.person_id = p.id AND l.org_id = $1) AS linked \
         FROM people p WHERE p.active AND (\
           EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1) \
           OR EXISTS (SELECT 1 FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.person_id = p.id AND c.org_id = $1))"
            .replace("STRING_AGG", super::STRING_AGG)
            .as_str(),
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let people = people
        .into_iter()
        .map(|(person_id, name, roles, linked)| PersonFacts {
            person_id,
            name,
            roles: roles.unwrap_or_default().split(',').filter_map(Role::parse).collect(),
            linked,
        })
        .collect();

    let classes: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as("SELECT id, name, year_id FROM classes WHERE org_id = $1 AND active ORDER BY id")
            .bind(org)
            .fetch_all(&mut **tx)
            .await?;
    let classes = classes.into_iter().map(|(class_id, name, year_id)| ClassFacts { class_id, name, year_id }).collect();

    let in_classes = |role_filter: &'static str| {
        format!(
            "SELECT e.class_id, e.person_id FROM enrollments e JOIN classes c ON c.id = e.class_id \
             JOIN people p ON p.id = e.person_id \
             WHERE c.org_id = $1 AND c.active AND e.active AND p.active AND {role_filter} ORDER BY 1, 2"
        )
    };
    let class_teachers: Vec<(i64, i64)> =
        sqlx::query_as(&in_classes("e.role = 'teacher' AND e.is_primary")).bind(org).fetch_all(&mut **tx).await?;
    let students: Vec<(i64, i64)> =
        sqlx::query_as(&in_classes("e.role = 'student'")).bind(org).fetch_all(&mut **tx).await?;

    let sections: Vec<(i64, Option<i64>, String, Option<String>)> = sqlx::query_as(
        "SELECT s.id, s.class_id, sub.name, s.group_name FROM sections s JOIN subjects sub ON sub.id = s.subject_id \
         WHERE s.org_id = $1 AND s.active ORDER BY s.id",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let section_people: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT e.section_id, e.person_id, e.role FROM enrollments e JOIN sections s ON s.id = e.section_id \
         JOIN people p ON p.id = e.person_id WHERE s.org_id = $1 AND s.active AND e.active AND p.active ORDER BY 1, 2",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_section: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::new();
    for (section, person, role) in section_people {
        let entry = by_section.entry(section).or_default();
        if role == "teacher" { entry.0.push(person) } else { entry.1.push(person) }
    }
    let sections = sections
        .into_iter()
        .map(|(section_id, class_id, subject, group)| {
            let (teachers, group_students) = by_section.remove(&section_id).unwrap_or_default();
            SectionFacts { section_id, class_id, subject, group, teachers, group_students }
        })
        .collect();

    let guardianships: Vec<(i64, i64)> = sqlx::query_as(
        // Driven from the organisation's students (indexed), not from every guardianship.
        "SELECT g.guardian_id, g.student_id FROM person_roles r JOIN guardianships g ON g.student_id = r.person_id \
         WHERE r.org_id = $1 AND r.role = 'student' ORDER BY 1, 2",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;

    Ok(OrgSnapshot {
        org_id: org,
        kind: OrgKind::parse(&kind).unwrap_or(OrgKind::Other),
        chats_enabled,
        current_year,
        people,
        classes,
        class_teachers,
        students,
        sections,
        guardianships,
        templates: NameTemplates::default(),
    })
}

type ChatRow = (i64, String, Option<i64>, Option<i64>, Option<i64>, String, bool, String, bool);
type MemberRow = (i64, i64, bool, String, String, String, bool);

fn chat_key(kind: &str, year: Option<i64>, class: Option<i64>, section: Option<i64>) -> Option<ChatKey> {
    match (kind, class, section) {
        ("staff_room", _, _) => Some(ChatKey::StaffRoom { year }),
        ("class", Some(class_id), _) => Some(ChatKey::Class { class_id }),
        ("parents", Some(class_id), _) => Some(ChatKey::Parents { class_id }),
        ("subject", _, Some(section_id)) => Some(ChatKey::Subject { section_id }),
        _ => None,
    }
}

async fn actual_chats(tx: &mut Tx, org: i64) -> Result<Vec<ActualChat>, StorageError> {
    let chats: Vec<ChatRow> = sqlx::query_as(
        "SELECT id, kind, year_id, class_id, section_id, name, name_overridden, state, archived_by_hand FROM chats \
         WHERE org_id = $1 AND kind <> 'custom' ORDER BY id",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let members: Vec<MemberRow> = sqlx::query_as(
        "SELECT m.chat_id, m.person_id, m.admin, m.source, m.status, m.reasons, m.admin_overridden FROM chat_members m \
         JOIN chats c ON c.id = m.chat_id WHERE c.org_id = $1 AND c.kind <> 'custom' ORDER BY 1, 2",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_chat: HashMap<i64, BTreeMap<i64, ActualMember>> = HashMap::new();
    for (chat, person, admin, source, status, reasons, admin_overridden) in members {
        let member = ActualMember {
            admin,
            source: Source::parse(&source).unwrap_or(Source::Roster),
            status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Pending),
            reasons: reasons.split("; ").filter(|r| !r.is_empty()).map(String::from).collect(),
            admin_overridden,
        };
        by_chat.entry(chat).or_default().insert(person, member);
    }
    Ok(chats
        .into_iter()
        .filter_map(|(chat_id, kind, year, class, section, name, name_overridden, state, archived_by_hand)| {
            Some(ActualChat {
                chat_id,
                key: chat_key(&kind, year, class, section)?,
                name,
                state: ChatState::parse(&state)?,
                name_overridden,
                archived_by_hand,
                members: by_chat.remove(&chat_id).unwrap_or_default(),
            })
        })
        .collect())
}

fn key_columns(key: ChatKey) -> (Option<i64>, Option<i64>, Option<i64>) {
    match key {
        ChatKey::StaffRoom { year } => (year, None, None),
        ChatKey::Class { class_id } | ChatKey::Parents { class_id } => (None, Some(class_id), None),
        ChatKey::Subject { section_id } => (None, None, Some(section_id)),
    }
}

async fn log(
    tx: &mut Tx,
    org: i64,
    chat: i64,
    person: Option<i64>,
    change: &str,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provisioning_log (org_id, chat_id, person_id, change, reason, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org)
    .bind(chat)
    .bind(person)
    .bind(change)
    .bind(reason)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_member(
    tx: &mut Tx,
    chat: i64,
    person: i64,
    admin: bool,
    status: MemberStatus,
    reasons: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_members (chat_id, person_id, admin, source, status, reasons) VALUES ($1, $2, $3, 'roster', $4, $5) \
         ON CONFLICT (chat_id, person_id) DO UPDATE SET admin = $3, source = 'roster', status = $4, reasons = $5",
    )
    .bind(chat)
    .bind(person)
    .bind(admin)
    .bind(status.as_str())
    .bind(reasons.join("; "))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_status(tx: &mut Tx, chat: i64, person: i64, status: MemberStatus) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_members SET status = $1 WHERE chat_id = $2 AND person_id = $3")
        .bind(status.as_str())
        .bind(chat)
        .bind(person)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Applies a plan made from this transaction's own reads. Removals go before
/// additions: a manual member who unlinked is removed, then re-added as a
/// pending roster member when the roster still wants them.
async fn apply(tx: &mut Tx, plan: &Plan, now: i64) -> Result<(), StorageError> {
    let org = plan.org_id;
    for change in &plan.set_state {
        sqlx::query("UPDATE chats SET state = $1 WHERE id = $2")
            .bind(change.to.as_str())
            .bind(change.chat_id)
            .execute(&mut **tx)
            .await?;
        log(tx, org, change.chat_id, None, &format!("state:{}", change.to.as_str()), &change.reason, now).await?;
    }
    for rename in &plan.rename {
        sqlx::query("UPDATE chats SET name = $1 WHERE id = $2")
            .bind(&rename.to)
            .bind(rename.chat_id)
            .execute(&mut **tx)
            .await?;
        log(tx, org, rename.chat_id, None, "rename", &rename.reason, now).await?;
    }
    for new in &plan.create {
        let (year, class, section) = key_columns(new.key);
        let chat: i64 = sqlx::query_scalar(
            "INSERT INTO chats (org_id, kind, year_id, class_id, section_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org)
        .bind(new.key.kind_str())
        .bind(year)
        .bind(class)
        .bind(section)
        .bind(&new.name)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        log(tx, org, chat, None, "create", &new.reason, now).await?;
        for m in &new.members {
            upsert_member(tx, chat, m.person_id, m.admin, m.status, &m.reasons).await?;
            log(tx, org, chat, Some(m.person_id), &format!("add:{}", m.status.as_str()), &m.reasons.join("; "), now)
                .await?;
        }
    }
    for r in &plan.remove {
        sqlx::query("DELETE FROM chat_members WHERE chat_id = $1 AND person_id = $2")
            .bind(r.chat_id)
            .bind(r.person_id)
            .execute(&mut **tx)
            .await?;
        log(tx, org, r.chat_id, Some(r.person_id), "remove", &r.reason, now).await?;
    }
    for d in &plan.deactivate {
        set_status(tx, d.chat_id, d.person_id, MemberStatus::Pending).await?;
        log(tx, org, d.chat_id, Some(d.person_id), "pending", &d.reason, now).await?;
    }
    for a in &plan.add {
        upsert_member(tx, a.chat_id, a.person_id, a.admin, a.status, &a.reasons).await?;
        log(tx, org, a.chat_id, Some(a.person_id), &format!("add:{}", a.status.as_str()), &a.reasons.join("; "), now)
            .await?;
    }
    for a in &plan.activate {
        set_status(tx, a.chat_id, a.person_id, MemberStatus::Active).await?;
        log(tx, org, a.chat_id, Some(a.person_id), "active", &a.reason, now).await?;
    }
    for a in &plan.set_admin {
        sqlx::query("UPDATE chat_members SET admin = $1 WHERE chat_id = $2 AND person_id = $3")
            .bind(a.admin)
            .bind(a.chat_id)
            .bind(a.person_id)
            .execute(&mut **tx)
            .await?;
        log(tx, org, a.chat_id, Some(a.person_id), if a.admin { "admin" } else { "not_admin" }, &a.reason, now).await?;
    }
    for r in &plan.set_reasons {
        sqlx::query("UPDATE chat_members SET reasons = $1 WHERE chat_id = $2 AND person_id = $3")
            .bind(r.reasons.join("; "))
            .bind(r.chat_id)
            .bind(r.person_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Reconciles one organisation: plans from a consistent read and, unless
/// `dry_run`, applies the plan in the same transaction. Concurrent
/// reconciliations of one organisation queue on a write lock.
pub(crate) async fn reconcile(pool: &Pool<Db>, org: i64, dry_run: bool, now: i64) -> Result<Plan, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    if let Some(lock) = LOCK_ORG {
        sqlx::query(lock).bind(org).execute(&mut *tx).await?;
    }
    let snapshot = snapshot(&mut tx, org).await?;
    let actual = actual_chats(&mut tx, org).await?;
    let plan = ::provisioning::plan(&::provisioning::desired(&snapshot), &actual, &snapshot);
    if dry_run || plan.is_empty() {
        tx.rollback().await?;
    } else {
        apply(&mut tx, &plan, now).await?;
        tx.commit().await?;
    }
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
