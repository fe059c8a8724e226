// Part of `mod chats` (imports in chat_queries.rs): the reads of a
// reconciliation — the roster facts and the automatic chats as they are.

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
