// Automatic chats: loading an organisation's snapshot and chats, and applying
// the reconciler's plan. Compiled per backend inside `mod chats` of `mod sqlite`
// and `mod postgres` (see lib.rs).
//
// Reading is most of a reconciliation, and on SQLite most of reading is the
// driver's cost per row (a copy of every value and a hand-over between threads),
// not the database's: so a query of many small rows is folded into one text
// value in SQL (`aggregated`) and split here. Writing goes many rows per
// statement.

use crate::chats_store::Scope;
use crate::{ChatListItem, StorageError};
use ::provisioning::{
    ActualChat, ActualMember, ChatKey, ChatState, ClassFacts, DesiredChat, MemberStatus, NameTemplates, OrgSnapshot,
    PersonFacts, Plan, SectionFacts, Source,
};
use roster::{OrgKind, Role};
use sqlx::QueryBuilder;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ---------------------------------------------------------------- folded reads

/// Separators of the rows `aggregated` folds into one text. Names, titles and
/// class names refuse control characters (`roster::names`), and chat names and
/// reasons are made of them, so neither separator occurs inside a value; a
/// record that does not split into its fields is an error, never a guess.
const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';

/// Runs `select` (one text column `x`: fields joined by `$2`; `$1` is the
/// organisation) and returns its rows joined by the record separator, as one
/// value. `cached`: keep the prepared statement (a query that recurs as is).
async fn aggregated(tx: &mut Tx, org: i64, select: &str, cached: bool) -> Result<String, StorageError> {
    let sql = format!("SELECT STRING_AGG(x, $3) FROM ({select}) AS t").replace("STRING_AGG", super::STRING_AGG);
    let text: Option<String> = sqlx::query_scalar(&sql)
        .persistent(cached)
        .bind(org)
        .bind(FIELD.to_string())
        .bind(RECORD.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(text.unwrap_or_default())
}

/// The ids `select` returns (one column `x`, an id as text; `$1` is the
/// organisation). For the scoped reads, whose statements do not recur.
async fn id_set(tx: &mut Tx, org: i64, select: &str) -> Result<BTreeSet<i64>, StorageError> {
    let sql = format!("SELECT STRING_AGG(x, ',') FROM ({select}) AS t").replace("STRING_AGG", super::STRING_AGG);
    let text: Option<String> = sqlx::query_scalar(&sql).persistent(false).bind(org).fetch_one(&mut **tx).await?;
    text.unwrap_or_default().split(',').filter(|id| !id.is_empty()).map(int).collect()
}

/// The records of an aggregated text, each split into exactly `N` fields.
fn records<const N: usize>(text: &str) -> Result<Vec<[&str; N]>, StorageError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(RECORD)
        .map(|record| {
            let mut fields = record.split(FIELD);
            let mut short = false;
            let parsed: [&str; N] = std::array::from_fn(|_| {
                fields.next().unwrap_or_else(|| {
                    short = true;
                    ""
                })
            });
            if short || fields.next().is_some() {
                return Err(StorageError::Encoding(format!("an aggregated row has not {N} fields: {record:?}")));
            }
            Ok(parsed)
        })
        .collect()
}

fn int(field: &str) -> Result<i64, StorageError> {
    field.parse().map_err(|_| StorageError::Encoding(format!("{field:?} is not an id")))
}

/// An empty field is NULL.
fn opt_int(field: &str) -> Result<Option<i64>, StorageError> {
    if field.is_empty() { Ok(None) } else { int(field).map(Some) }
}

/// Ids written into SQL (`IN (…)`): integers only, so nothing to escape. An
/// empty list is `NULL`, which matches nothing.
fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let list: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    if list.is_empty() { "NULL".to_owned() } else { list.join(",") }
}

/// `(a, b)` pairs of ids, sorted, from a query of two fields.
async fn pairs(tx: &mut Tx, org: i64, select: &str, cached: bool) -> Result<Vec<(i64, i64)>, StorageError> {
    let text = aggregated(tx, org, select, cached).await?;
    let mut pairs = records::<2>(&text)?
        .into_iter()
        .map(|[a, b]| Ok((int(a)?, int(b)?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    pairs.sort_unstable();
    Ok(pairs)
}

// ---------------------------------------------------------------- the roster side

/// The active people `who` (a condition on `p`) with their roles and link here.
async fn people_facts(tx: &mut Tx, org: i64, who: &str) -> Result<Vec<PersonFacts>, StorageError> {
    let text = aggregated(
        tx,
        org,
        &format!(
            "SELECT CAST(p.id AS TEXT) || $2 || p.last_name || ' ' || p.first_name || $2 \
               || COALESCE((SELECT STRING_AGG(r.role, ',') FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1), '') \
               || $2 || CASE WHEN EXISTS (SELECT 1 FROM profile_links l WHERE l.person_id = p.id AND l.org_id = $1) \
                  THEN '1' ELSE '0' END AS x \
             FROM people p WHERE p.active AND ({who})"
        ),
        false,
    )
    .await?;
    person_records(&text)
}

/// Everyone active with a role here, with their roles and link: driven from the
/// organisation's roles.
async fn people_with_roles(tx: &mut Tx, org: i64) -> Result<Vec<PersonFacts>, StorageError> {
    let text = aggregated(
        tx,
        org,
        "SELECT CAST(p.id AS TEXT) || $2 || p.last_name || ' ' || p.first_name || $2 || STRING_AGG(r.role, ',') \
           || $2 || CASE WHEN EXISTS (SELECT 1 FROM profile_links l WHERE l.person_id = p.id AND l.org_id = $1) \
              THEN '1' ELSE '0' END AS x \
         FROM person_roles r JOIN people p ON p.id = r.person_id WHERE r.org_id = $1 AND p.active GROUP BY p.id",
        true,
    )
    .await?;
    person_records(&text)
}

fn person_records(text: &str) -> Result<Vec<PersonFacts>, StorageError> {
    records::<4>(text)?
        .into_iter()
        .map(|[id, name, roles, linked]| {
            Ok(PersonFacts {
                person_id: int(id)?,
                name: name.to_owned(),
                roles: roles.split(',').filter_map(Role::parse).collect(),
                linked: linked == "1",
            })
        })
        .collect()
}

/// The organisation's active classes `which` (a condition on `c`), by id.
async fn class_facts(tx: &mut Tx, org: i64, which: &str, cached: bool) -> Result<Vec<ClassFacts>, StorageError> {
    let text = aggregated(
        tx,
        org,
        &format!(
            "SELECT CAST(c.id AS TEXT) || $2 || c.name || $2 || COALESCE(CAST(c.year_id AS TEXT), '') AS x \
             FROM classes c WHERE c.org_id = $1 AND c.active AND ({which})"
        ),
        cached,
    )
    .await?;
    let mut classes = records::<3>(&text)?
        .into_iter()
        .map(|[id, name, year]| Ok(ClassFacts { class_id: int(id)?, name: name.to_owned(), year_id: opt_int(year)? }))
        .collect::<Result<Vec<_>, StorageError>>()?;
    classes.sort_by_key(|c| c.class_id);
    Ok(classes)
}

/// `(class_id, person_id)` of the active enrollments `which` (a condition on
/// `e` and `c`) in the organisation's active classes.
async fn in_classes(tx: &mut Tx, org: i64, which: &str, cached: bool) -> Result<Vec<(i64, i64)>, StorageError> {
    let select = format!(
        "SELECT CAST(e.class_id AS TEXT) || $2 || CAST(e.person_id AS TEXT) AS x FROM enrollments e \
         JOIN classes c ON c.id = e.class_id JOIN people p ON p.id = e.person_id \
         WHERE c.org_id = $1 AND c.active AND e.active AND p.active AND {which}"
    );
    pairs(tx, org, &select, cached).await
}

/// The sections `which` (a condition on `s`) with their teachers and group
/// students, by id.
async fn section_facts(tx: &mut Tx, org: i64, which: &str, cached: bool) -> Result<Vec<SectionFacts>, StorageError> {
    // A NULL group is an empty field; a group's name is written after a '='.
    let text = aggregated(
        tx,
        org,
        &format!(
            "SELECT CAST(s.id AS TEXT) || $2 || COALESCE(CAST(s.class_id AS TEXT), '') || $2 || sub.name || $2 \
               || CASE WHEN s.group_name IS NULL THEN '' ELSE '=' || s.group_name END AS x \
             FROM sections s JOIN subjects sub ON sub.id = s.subject_id WHERE {which}"
        ),
        cached,
    )
    .await?;
    let people = aggregated(
        tx,
        org,
        &format!(
            "SELECT CAST(e.section_id AS TEXT) || $2 || CAST(e.person_id AS TEXT) || $2 || e.role AS x \
             FROM enrollments e JOIN sections s ON s.id = e.section_id \
             JOIN people p ON p.id = e.person_id WHERE {which} AND e.active AND p.active"
        ),
        cached,
    )
    .await?;
    let mut by_section: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::new();
    for [section, person, role] in records::<3>(&people)? {
        let entry = by_section.entry(int(section)?).or_default();
        if role == "teacher" { entry.0.push(int(person)?) } else { entry.1.push(int(person)?) }
    }
    let mut sections = records::<4>(&text)?
        .into_iter()
        .map(|[id, class, subject, group]| {
            let section_id = int(id)?;
            let (mut teachers, mut group_students) = by_section.remove(&section_id).unwrap_or_default();
            teachers.sort_unstable();
            group_students.sort_unstable();
            Ok(SectionFacts {
                section_id,
                class_id: opt_int(class)?,
                subject: subject.to_owned(),
                group: group.strip_prefix('=').map(str::to_owned),
                teachers,
                group_students,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    sections.sort_by_key(|s| s.section_id);
    Ok(sections)
}

/// `(guardian_id, student_id)` of the organisation's students `which` (a
/// condition on `r.person_id`). Driven from the students (indexed), not from
/// every guardianship.
async fn guardianships(tx: &mut Tx, org: i64, which: &str, cached: bool) -> Result<Vec<(i64, i64)>, StorageError> {
    let select = format!(
        "SELECT CAST(g.guardian_id AS TEXT) || $2 || CAST(g.student_id AS TEXT) AS x \
         FROM person_roles r JOIN guardianships g ON g.student_id = r.person_id \
         WHERE r.org_id = $1 AND r.role = 'student' AND {which}"
    );
    pairs(tx, org, &select, cached).await
}

/// The active sections `s` of organisation `$1`. Sections are indexed by class,
/// not by organisation: found through its classes (and the NULLs of clubs).
const ORG_SECTIONS: &str = "s.org_id = $1 AND s.active \
    AND (s.class_id IN (SELECT id FROM classes WHERE org_id = $1) OR s.class_id IS NULL)";

const EMPLOYEE_ROLES: &str = "('administrator', 'teacher', 'other_staff')";

// ---------------------------------------------------------------- the chats side

/// An automatic chat without its members.
struct ChatHead {
    id: i64,
    key: ChatKey,
    name: String,
    name_overridden: bool,
    state: ChatState,
    archived_by_hand: bool,
}

fn chat_key(kind: &str, year: Option<i64>, class: Option<i64>, section: Option<i64>) -> Option<ChatKey> {
    match (kind, class, section) {
        ("staff_room", _, _) => Some(ChatKey::StaffRoom { year }),
        ("class", Some(class_id), _) => Some(ChatKey::Class { class_id }),
        ("parents", Some(class_id), _) => Some(ChatKey::Parents { class_id }),
        ("subject", _, Some(section_id)) => Some(ChatKey::Subject { section_id }),
        _ => None,
    }
}

/// Every automatic chat of the organisation, by id; a row that is no chat the
/// rules know is left out (and left alone).
async fn chat_heads(tx: &mut Tx, org: i64) -> Result<Vec<ChatHead>, StorageError> {
    let text = aggregated(
        tx,
        org,
        "SELECT CAST(id AS TEXT) || $2 || kind || $2 || COALESCE(CAST(year_id AS TEXT), '') \
           || $2 || COALESCE(CAST(class_id AS TEXT), '') || $2 || COALESCE(CAST(section_id AS TEXT), '') \
           || $2 || name || $2 || CASE WHEN name_overridden THEN '1' ELSE '0' END || $2 || state \
           || $2 || CASE WHEN archived_by_hand THEN '1' ELSE '0' END AS x \
         FROM chats WHERE org_id = $1 AND kind <> 'custom'",
        true,
    )
    .await?;
    let mut heads = Vec::new();
    for [id, kind, year, class, section, name, overridden, state, archived] in records::<9>(&text)? {
        let key = chat_key(kind, opt_int(year)?, opt_int(class)?, opt_int(section)?);
        if let (Some(key), Some(state)) = (key, ChatState::parse(state)) {
            let (id, name, name_overridden, archived_by_hand) =
                (int(id)?, name.to_owned(), overridden == "1", archived == "1");
            heads.push(ChatHead { id, key, name, name_overridden, state, archived_by_hand });
        }
    }
    heads.sort_by_key(|h| h.id);
    Ok(heads)
}

/// The members of the organisation's automatic chats `which` (a condition on
/// `c`), by chat and person. Members of a chat mostly share their reasons, so
/// the rows are grouped by chat and reasons, a reason read once. Each member is
/// one number, `person_id * 32 + flags` (arithmetic is the cheapest thing SQL
/// can do per row).
async fn members(
    tx: &mut Tx,
    org: i64,
    which: &str,
    cached: bool,
) -> Result<HashMap<i64, BTreeMap<i64, ActualMember>>, StorageError> {
    let text = aggregated(
        tx,
        org,
        &format!(
            "SELECT CAST(m.chat_id AS TEXT) || $2 || m.reasons || $2 || STRING_AGG(CAST(m.person_id * 32 \
               + CAST(m.admin AS INTEGER) * {ADMIN} + CAST(m.admin_overridden AS INTEGER) * {ADMIN_BY_HAND} \
               + CASE WHEN m.source = 'manual' THEN {MANUAL} ELSE 0 END \
               + CASE m.status WHEN 'active' THEN 0 WHEN 'removed_by_hand' THEN {REMOVED} ELSE {PENDING} END \
               AS TEXT), ',') AS x \
             FROM chat_members m JOIN chats c ON c.id = m.chat_id \
             WHERE c.org_id = $1 AND c.kind <> 'custom' AND ({which}) GROUP BY m.chat_id, m.reasons"
        ),
        cached,
    )
    .await?;
    let mut by_chat: HashMap<i64, BTreeMap<i64, ActualMember>> = HashMap::new();
    for [chat, reasons, people] in records::<3>(&text)? {
        let reasons: Vec<String> = reasons.split("; ").filter(|r| !r.is_empty()).map(String::from).collect();
        let chat_members = by_chat.entry(int(chat)?).or_default();
        for member in people.split(',') {
            let member = int(member)?;
            let flag = |f: i64| member & f != 0;
            let status = if flag(PENDING) {
                MemberStatus::Pending
            } else if flag(REMOVED) {
                MemberStatus::RemovedByHand
            } else {
                MemberStatus::Active
            };
            let source = if flag(MANUAL) { Source::Manual } else { Source::Roster };
            chat_members.insert(
                member >> 5,
                ActualMember {
                    admin: flag(ADMIN),
                    admin_overridden: flag(ADMIN_BY_HAND),
                    source,
                    status,
                    reasons: reasons.clone(),
                },
            );
        }
    }
    Ok(by_chat)
}

// The flags of a member in `members`: five bits below the person's id.
const ADMIN: i64 = 1;
const ADMIN_BY_HAND: i64 = 2;
const MANUAL: i64 = 4;
/// A status the rules do not know reads as pending.
const PENDING: i64 = 8;
const REMOVED: i64 = 16;

fn actual_chats(heads: Vec<ChatHead>, mut members: HashMap<i64, BTreeMap<i64, ActualMember>>) -> Vec<ActualChat> {
    heads
        .into_iter()
        .map(|h| ActualChat {
            chat_id: h.id,
            key: h.key,
            name: h.name,
            state: h.state,
            name_overridden: h.name_overridden,
            archived_by_hand: h.archived_by_hand,
            members: members.remove(&h.id).unwrap_or_default(),
        })
        .collect()
}

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
    people: &[i64],
    heads: &[ChatHead],
    current_year: Option<i64>,
) -> Result<BTreeSet<ChatKey>, StorageError> {
    let who = id_list(people.iter().copied());
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

fn key_columns(key: ChatKey) -> (Option<i64>, Option<i64>, Option<i64>) {
    match key {
        ChatKey::StaffRoom { year } => (year, None, None),
        ChatKey::Class { class_id } | ChatKey::Parents { class_id } => (None, Some(class_id), None),
        ChatKey::Subject { section_id } => (None, None, Some(section_id)),
    }
}

/// A `provisioning_log` row about to be written.
struct LogRow<'p> {
    chat: i64,
    person: Option<i64>,
    change: Cow<'p, str>,
    reason: Cow<'p, str>,
}

impl<'p> LogRow<'p> {
    fn new(chat: i64, person: Option<i64>, change: impl Into<Cow<'p, str>>, reason: impl Into<Cow<'p, str>>) -> Self {
        LogRow { chat, person, change: change.into(), reason: reason.into() }
    }
}

/// A roster membership to insert.
struct NewMemberRow {
    chat: i64,
    person: i64,
    admin: bool,
    status: MemberStatus,
    reasons: String,
}

/// Rows per multi-row statement when each row binds `binds` values.
fn rows_per_statement(binds: usize) -> usize {
    MAX_BINDS / binds
}

/// Runs the statements `build` makes of `rows`, as many rows each as `binds`
/// values a row allow, and builds the next while the database runs one. A full
/// statement recurs organisation after organisation and is kept prepared; a
/// shorter one is prepared once and would crowd the cache.
async fn in_chunks<'r, T: Sync>(
    tx: &mut Tx,
    rows: &'r [T],
    binds: usize,
    build: impl Fn(&'r [T]) -> QueryBuilder<'r, Db>,
) -> Result<(), sqlx::Error> {
    let size = rows_per_statement(binds);
    let mut chunks = rows.chunks(size);
    let mut next = chunks.next().map(|c| (c.len() == size, build(c)));
    while let Some((full, mut qb)) = next.take() {
        let execute = qb.build().persistent(full).execute(&mut **tx);
        let prepare = async { chunks.next().map(|c| (c.len() == size, build(c))) };
        let (done, prepared) = futures_util::future::join(execute, prepare).await;
        done?;
        next = prepared;
    }
    Ok(())
}

async fn insert_log(tx: &mut Tx, org: i64, now: i64, rows: &[LogRow<'_>]) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 6, |chunk| {
        let mut qb =
            QueryBuilder::new("INSERT INTO provisioning_log (org_id, chat_id, person_id, change, reason, at) ");
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(org)
                .push_bind(r.chat)
                .push_bind(r.person)
                .push_bind(r.change.as_ref())
                .push_bind(r.reason.as_ref())
                .push_bind(now);
        });
        qb
    })
    .await
}

/// Logs new chats and their members in the plan's order, a chat's line then
/// one per member, the members read back from the rows just written: a first
/// reconciliation logs a region's millions of memberships without sending
/// them to the database a second time.
async fn log_created(tx: &mut Tx, org: i64, now: i64, chats: &[(i64, &str)]) -> Result<(), sqlx::Error> {
    let numbered: Vec<(i64, i64, &str)> =
        chats.iter().enumerate().map(|(n, &(chat, reason))| (n as i64, chat, reason)).collect();
    // MAX_BINDS leaves room for the two values more: the organisation and the time.
    in_chunks(tx, &numbered, 3, |chunk| {
        let mut qb = QueryBuilder::new("WITH v (n, chat_id, reason) AS (");
        qb.push_values(chunk, |mut b, &(n, chat, reason)| {
            b.push_bind(n).push_bind(chat).push_bind(reason);
        });
        qb.push(") INSERT INTO provisioning_log (org_id, chat_id, person_id, change, reason, at) SELECT ")
            .push_bind(org)
            .push(", t.chat_id, t.person_id, t.change, t.reason, ")
            .push_bind(now)
            .push(
                " FROM (SELECT n, chat_id, NULL AS person_id, 'create' AS change, reason FROM v \
                 UNION ALL SELECT v.n, m.chat_id, m.person_id, 'add:' || m.status, m.reasons \
                 FROM v JOIN chat_members m ON m.chat_id = v.chat_id) AS t \
                 ORDER BY t.n, t.person_id IS NOT NULL, t.person_id",
            );
        qb
    })
    .await
}

/// Inserts roster members; with `upsert` a row already there (a stale one) is
/// overwritten, otherwise the chats are new and so are their rows.
async fn insert_members(tx: &mut Tx, rows: &[NewMemberRow], upsert: bool) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 5, |chunk| {
        let mut qb =
            QueryBuilder::new("INSERT INTO chat_members (chat_id, person_id, admin, source, status, reasons) ");
        qb.push_values(chunk, |mut b, m| {
            b.push_bind(m.chat)
                .push_bind(m.person)
                .push_bind(m.admin)
                .push("'roster'")
                .push_bind(m.status.as_str())
                .push_bind(m.reasons.as_str());
        });
        if upsert {
            qb.push(
                " ON CONFLICT (chat_id, person_id) DO UPDATE SET admin = excluded.admin, source = excluded.source, \
                 status = excluded.status, reasons = excluded.reasons",
            );
        }
        qb
    })
    .await
}

/// Runs `head` (`UPDATE chat_members SET …` or `DELETE FROM chat_members`) on
/// the memberships `keys`, `(chat_id, person_id)`, many at a time.
async fn members_where(tx: &mut Tx, head: &'static str, keys: &[(i64, i64)]) -> Result<(), sqlx::Error> {
    in_chunks(tx, keys, 2, |chunk| {
        let mut qb = QueryBuilder::new(head);
        qb.push(" WHERE (chat_id, person_id) IN (");
        qb.push_values(chunk, |mut b, &(chat, person)| {
            b.push_bind(chat).push_bind(person);
        });
        qb.push(")");
        qb
    })
    .await
}

/// Sets a text column of chats, each to its own value. A VALUES list names its
/// columns `column1`, `column2`, … in both dialects.
async fn set_chats_text(tx: &mut Tx, column: &'static str, rows: &[(i64, &str)]) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 2, |chunk| {
        let mut qb = QueryBuilder::new(format!("UPDATE chats SET {column} = v.column2 FROM ("));
        qb.push_values(chunk, |mut b, &(id, value)| {
            b.push_bind(id).push_bind(value);
        });
        qb.push(") AS v WHERE chats.id = v.column1");
        qb
    })
    .await
}

async fn set_member_reasons(tx: &mut Tx, rows: &[(i64, i64, String)]) -> Result<(), sqlx::Error> {
    in_chunks(tx, rows, 3, |chunk| {
        let mut qb = QueryBuilder::new("UPDATE chat_members SET reasons = v.column3 FROM (");
        qb.push_values(chunk, |mut b, (chat, person, reasons)| {
            b.push_bind(*chat).push_bind(*person).push_bind(reasons.as_str());
        });
        qb.push(") AS v WHERE chat_members.chat_id = v.column1 AND chat_members.person_id = v.column2");
        qb
    })
    .await
}

/// `id, kind, year_id, class_id, section_id` of a chat just created.
type CreatedChat = (i64, String, Option<i64>, Option<i64>, Option<i64>);

/// Creates the plan's chats and returns their ids by key. Keys are unique in an
/// organisation, so the returned rows are matched by key, not by order.
async fn create_chats(tx: &mut Tx, plan: &Plan, now: i64) -> Result<HashMap<ChatKey, i64>, StorageError> {
    const BINDS: usize = 7;
    let mut ids = HashMap::with_capacity(plan.create.len());
    for chunk in plan.create.chunks(rows_per_statement(BINDS)) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("INSERT INTO chats (org_id, kind, year_id, class_id, section_id, name, created_at) ");
        qb.push_values(chunk, |mut b, new| {
            let (year, class, section) = key_columns(new.key);
            b.push_bind(plan.org_id)
                .push_bind(new.key.kind_str())
                .push_bind(year)
                .push_bind(class)
                .push_bind(section)
                .push_bind(new.name.as_str())
                .push_bind(now);
        });
        qb.push(" RETURNING id, kind, year_id, class_id, section_id");
        let full = chunk.len() == rows_per_statement(BINDS);
        let rows: Vec<CreatedChat> = qb.build_query_as().persistent(full).fetch_all(&mut **tx).await?;
        for (id, kind, year, class, section) in rows {
            let key = chat_key(&kind, year, class, section)
                .ok_or_else(|| StorageError::Encoding(format!("chat {id} came back without its key")))?;
            ids.insert(key, id);
        }
    }
    Ok(ids)
}

/// Applies a plan made from this transaction's own reads, many rows per
/// statement, and logs every change in `provisioning_log` in the plan's order.
/// Removals go before additions: a manual member who unlinked is removed, then
/// re-added as a pending roster member when the roster still wants them.
async fn apply(tx: &mut Tx, plan: &Plan, now: i64) -> Result<(), StorageError> {
    let org = plan.org_id;
    let mut log: Vec<LogRow<'_>> = Vec::new();
    for to in [ChatState::Live, ChatState::ReadOnlyHidden, ChatState::Archived] {
        let ids: Vec<(i64, &str)> =
            plan.set_state.iter().filter(|c| c.to == to).map(|c| (c.chat_id, to.as_str())).collect();
        set_chats_text(tx, "state", &ids).await?;
    }
    for change in &plan.set_state {
        log.push(LogRow::new(change.chat_id, None, format!("state:{}", change.to.as_str()), &change.reason));
    }
    let renames: Vec<(i64, &str)> = plan.rename.iter().map(|r| (r.chat_id, r.to.as_str())).collect();
    set_chats_text(tx, "name", &renames).await?;
    for rename in &plan.rename {
        log.push(LogRow::new(rename.chat_id, None, "rename", &rename.reason));
    }
    insert_log(tx, org, now, &log).await?;
    log.clear();

    let created = create_chats(tx, plan, now).await?;
    let mut members = Vec::with_capacity(plan.create.iter().map(|c| c.members.len()).sum::<usize>());
    let mut new_chats = Vec::with_capacity(plan.create.len());
    for new in &plan.create {
        let chat = *created
            .get(&new.key)
            .ok_or_else(|| StorageError::Encoding(format!("the new chat {:?} was not created", new.key)))?;
        new_chats.push((chat, new.reason.as_str()));
        for m in &new.members {
            let reasons = m.reasons.join("; ");
            members.push(NewMemberRow { chat, person: m.person_id, admin: m.admin, status: m.status, reasons });
        }
    }
    insert_members(tx, &members, false).await?;
    drop(members);
    log_created(tx, org, now, &new_chats).await?;

    let removed: Vec<(i64, i64)> = plan.remove.iter().map(|r| (r.chat_id, r.person_id)).collect();
    members_where(tx, "DELETE FROM chat_members", &removed).await?;
    for r in &plan.remove {
        log.push(LogRow::new(r.chat_id, Some(r.person_id), "remove", &r.reason));
    }
    let deactivated: Vec<(i64, i64)> = plan.deactivate.iter().map(|d| (d.chat_id, d.person_id)).collect();
    members_where(tx, "UPDATE chat_members SET status = 'pending'", &deactivated).await?;
    for d in &plan.deactivate {
        log.push(LogRow::new(d.chat_id, Some(d.person_id), "pending", &d.reason));
    }
    let mut added = Vec::with_capacity(plan.add.len());
    for a in &plan.add {
        let reasons = a.reasons.join("; ");
        log.push(LogRow::new(a.chat_id, Some(a.person_id), add_change(a.status), reasons.clone()));
        added.push(NewMemberRow { chat: a.chat_id, person: a.person_id, admin: a.admin, status: a.status, reasons });
    }
    insert_members(tx, &added, true).await?;
    drop(added);
    let activated: Vec<(i64, i64)> = plan.activate.iter().map(|a| (a.chat_id, a.person_id)).collect();
    members_where(tx, "UPDATE chat_members SET status = 'active'", &activated).await?;
    for a in &plan.activate {
        log.push(LogRow::new(a.chat_id, Some(a.person_id), "active", &a.reason));
    }
    for (admin, head) in
        [(true, "UPDATE chat_members SET admin = TRUE"), (false, "UPDATE chat_members SET admin = FALSE")]
    {
        let keys: Vec<(i64, i64)> =
            plan.set_admin.iter().filter(|a| a.admin == admin).map(|a| (a.chat_id, a.person_id)).collect();
        members_where(tx, head, &keys).await?;
    }
    for a in &plan.set_admin {
        log.push(LogRow::new(a.chat_id, Some(a.person_id), if a.admin { "admin" } else { "not_admin" }, &a.reason));
    }
    let reasons: Vec<(i64, i64, String)> =
        plan.set_reasons.iter().map(|r| (r.chat_id, r.person_id, r.reasons.join("; "))).collect();
    set_member_reasons(tx, &reasons).await?;
    insert_log(tx, org, now, &log).await?;
    Ok(())
}

/// The log's change for a member added to an existing chat (`add:active`,
/// `add:pending`); new chats' members are logged by `log_created`, the same way.
fn add_change(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Active => "add:active",
        MemberStatus::Pending => "add:pending",
        MemberStatus::RemovedByHand => "add:removed_by_hand",
    }
}

/// Reconciles one organisation's chats in `scope`: plans from a consistent read
/// and, unless `dry_run`, applies the plan in the same transaction. Concurrent
/// reconciliations of one organisation queue on a write lock.
pub(crate) async fn reconcile(
    pool: &Pool<Db>,
    org: i64,
    scope: Scope<'_>,
    dry_run: bool,
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
    if dry_run || plan.is_empty() {
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
