// Part of `mod messages` (imports in message_queries.rs): the viewer's chats —
// the list with its counters, members, memberships, read marks and settings —
// and whom the messenger tells about a change.

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    org: i64,
    org_name: String,
    kind: String,
    name: String,
    direct_name: Option<String>,
    description: String,
    me: i64,
    admin: bool,
    announcement_only: bool,
    state: String,
    members: i64,
    last_seq: i64,
    last_read_seq: i64,
    others_read_seq: Option<i64>,
    unread: i64,
    last_message_id: Option<i64>,
}

/// The viewer's chats (or one of them), with their counters.
pub(crate) async fn messenger_chats(
    pool: &Pool<Db>,
    account: i64,
    only: Option<i64>,
) -> Result<Vec<ChatSummary>, StorageError> {
    let rows: Vec<SummaryRow> = sqlx::query_as(
        "SELECT c.id, c.org_id AS org, o.name AS org_name, c.kind, c.name, \
           (SELECT q.last_name || ' ' || q.first_name FROM chat_members x JOIN people q ON q.id = x.person_id \
             WHERE c.kind = 'direct' AND x.chat_id = c.id AND x.person_id <> m.person_id LIMIT 1) AS direct_name, \
           c.description, m.person_id AS me, m.admin, c.announcement_only, c.state, \
           (SELECT COUNT(*) FROM chat_members x WHERE x.chat_id = c.id AND x.status = 'active') AS members, \
           c.last_seq, m.last_read_seq, \
           (SELECT MAX(x.last_read_seq) FROM chat_members x WHERE x.chat_id = c.id AND x.person_id <> m.person_id) \
             AS others_read_seq, \
           (SELECT COUNT(*) FROM messages g WHERE g.chat_id = c.id AND g.seq > m.last_read_seq \
             AND g.author_id <> m.person_id AND g.deleted_at IS NULL) AS unread, \
           (SELECT g.id FROM messages g WHERE g.chat_id = c.id ORDER BY g.seq DESC LIMIT 1) AS last_message_id \
         FROM chats c JOIN orgs o ON o.id = c.org_id \
         JOIN chat_members m ON m.chat_id = c.id \
         JOIN profile_links l ON l.person_id = m.person_id AND l.org_id = c.org_id \
         JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE p.account_id = $1 AND m.status = 'active' AND c.state <> 'read_only_hidden' \
           AND o.chats_enabled AND o.kind = 'general_education' AND ($2 IS NULL OR c.id = $2) \
         ORDER BY c.last_seq DESC, c.id",
    )
    .bind(account)
    .bind(only)
    .fetch_all(pool)
    .await?;
    // Every chat's last message in one query per chunk, not one per chat:
    // the list is what the messenger loads first.
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.last_message_id).collect();
    let mut last: HashMap<i64, LastMessage> = HashMap::with_capacity(ids.len());
    let mut recorded: Vec<(i64, i64)> = Vec::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT m.id, a.last_name || ' ' || a.first_name, m.body, m.created_at, m.deleted_at IS NOT NULL, \
               m.call_id FROM messages m JOIN people a ON a.id = m.author_id WHERE m.id IN (",
        );
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(")");
        let found: Vec<(i64, String, String, i64, bool, Option<i64>)> = q.build_query_as().fetch_all(pool).await?;
        for (id, author_name, body, at, deleted, call) in found {
            let preview = ::messenger::preview(&body, PREVIEW_CHARS);
            if let Some(call) = call.filter(|_| !deleted) {
                recorded.push((id, call));
            }
            last.insert(id, LastMessage { id, author_name, preview, at, deleted, call: None });
        }
    }
    // The chats whose last message records a call: their records at once.
    if !recorded.is_empty() {
        let calls: Vec<i64> = recorded.iter().map(|(_, call)| *call).collect();
        let mut conn = pool.acquire().await?;
        let mut records = super::calls::records_of(&mut conn, &calls).await?;
        for (message, call) in recorded {
            if let Some(m) = last.get_mut(&message) {
                m.call = records.remove(&call);
            }
        }
    }
    let mut chats: Vec<ChatSummary> = rows
        .into_iter()
        .map(|r| ChatSummary {
            id: r.id,
            org: r.org,
            org_name: r.org_name,
            name: r.direct_name.filter(|_| r.kind == "direct").unwrap_or(r.name),
            kind: r.kind,
            description: r.description,
            me: r.me,
            admin: r.admin,
            announcement_only: r.announcement_only,
            read_only: r.state == "archived",
            members: r.members,
            last_seq: r.last_seq,
            last_read_seq: r.last_read_seq,
            others_read_seq: r.others_read_seq.unwrap_or(0),
            unread: r.unread,
            last_message: r.last_message_id.and_then(|id| last.remove(&id)),
        })
        .collect();
    // Most recent activity first; chats without messages after, by name.
    chats.sort_by(|a, b| {
        let at = |c: &ChatSummary| c.last_message.as_ref().map(|m| m.at);
        at(b).cmp(&at(a)).then_with(|| a.name.cmp(&b.name)).then(a.id.cmp(&b.id))
    });
    Ok(chats)
}

pub(crate) async fn chat_members(pool: &Pool<Db>, account: i64, chat: i64) -> Result<Vec<MemberView>, StorageError> {
    let mut conn = pool.acquire().await?;
    access(&mut *conn, chat, account).await?;
    let rows: Vec<(i64, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT m.person_id, p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, ''), \
           (SELECT STRING_AGG(r.role, ',') FROM person_roles r WHERE r.person_id = p.id AND r.org_id = c.org_id), \
           m.admin \
         FROM chat_members m JOIN people p ON p.id = m.person_id JOIN chats c ON c.id = m.chat_id \
         WHERE m.chat_id = $1 AND m.status = 'active' ORDER BY m.admin DESC, p.last_name, p.first_name, p.id"
            .replace("STRING_AGG", super::STRING_AGG)
            .as_str(),
    )
    .bind(chat)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(person, name, roles, admin)| {
            let role = roles
                .unwrap_or_default()
                .split(',')
                .filter_map(Role::parse)
                .min_by_key(|r| role_rank(*r))
                .map_or("", Role::as_str)
                .to_string();
            MemberView { person, name, role, admin }
        })
        .collect())
}

/// Which role names a person first: what they are to the others in a chat.
fn role_rank(role: Role) -> u8 {
    match role {
        Role::Administrator => 0,
        Role::Teacher => 1,
        Role::OtherStaff => 2,
        Role::Student => 3,
        Role::Guardian => 4,
    }
}

pub(crate) async fn memberships(pool: &Pool<Db>, account: i64) -> Result<Vec<Membership>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT c.id AS chat_id, m.person_id, m.admin FROM chats c JOIN orgs o ON o.id = c.org_id \
         JOIN chat_members m ON m.chat_id = c.id \
         JOIN profile_links l ON l.person_id = m.person_id AND l.org_id = c.org_id \
         JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE p.account_id = $1 AND m.status = 'active' AND c.state <> 'read_only_hidden' \
           AND o.chats_enabled AND o.kind = 'general_education' ORDER BY c.id",
    )
    .bind(account)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn is_chat_admin(pool: &Pool<Db>, account: i64, chat: i64) -> Result<bool, StorageError> {
    match access(pool, chat, account).await {
        Ok(access) => Ok(access.admin),
        Err(StorageError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

pub(crate) async fn mark_read(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    seq: i64,
    now: i64,
) -> Result<Option<ReadMark>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    let last_seq: i64 =
        sqlx::query_scalar("SELECT last_seq FROM chats WHERE id = $1").bind(chat).fetch_one(&mut *tx).await?;
    let seq = seq.clamp(0, last_seq);
    let moved = sqlx::query(
        "UPDATE chat_members SET last_read_seq = $1 WHERE chat_id = $2 AND person_id = $3 AND last_read_seq < $1",
    )
    .bind(seq)
    .bind(chat)
    .bind(me.person_id)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() > 0 {
        super::receipts::mark(&mut tx, chat, me.person_id, seq, now).await?;
    }
    tx.commit().await?;
    Ok((moved.rows_affected() > 0).then_some(ReadMark { chat_id: chat, person_id: me.person_id, seq }))
}

pub(crate) async fn session_alive(pool: &Pool<Db>, session: i64, now: i64) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messenger_sessions WHERE id = $1 AND expires_at > $2")
        .bind(session)
        .bind(now)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

pub(crate) async fn accounts_of_people(pool: &Pool<Db>, org: i64, people: &[i64]) -> Result<Vec<i64>, StorageError> {
    let mut accounts = Vec::new();
    for chunk in people.chunks(500) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT DISTINCT p.account_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
             WHERE l.org_id = ",
        );
        q.push_bind(org).push(" AND l.person_id IN (");
        let mut list = q.separated(", ");
        for person in chunk {
            list.push_bind(*person);
        }
        q.push(")");
        accounts.extend(q.build_query_scalar::<i64>().fetch_all(pool).await?);
    }
    accounts.sort_unstable();
    accounts.dedup();
    Ok(accounts)
}

pub(crate) async fn accounts_in_org(pool: &Pool<Db>, org: i64) -> Result<Vec<i64>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT p.account_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE l.org_id = $1",
    )
    .bind(org)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn update_chat_settings(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    settings: &ChatSettings,
    now: i64,
) -> Result<Vec<i64>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    may_pin(&me.chat, &me.member(now)).map_err(StorageError::Refused)?;
    let (org, description): (i64, String) =
        sqlx::query_as("SELECT org_id, description FROM chats WHERE id = $1").bind(chat).fetch_one(&mut *tx).await?;
    // The same audit line as the portal's edit: a chat admin's change is
    // accountable wherever it is made.
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    let new_description = settings.description.as_deref().filter(|d| *d != description);
    if let Some(d) = new_description {
        before.insert("description".into(), description.as_str().into());
        after.insert("description".into(), d.into());
    }
    let announcement_only = settings.announcement_only.filter(|a| *a != me.chat.announcement_only);
    if let Some(a) = announcement_only {
        before.insert("announcement_only".into(), me.chat.announcement_only.into());
        after.insert("announcement_only".into(), a.into());
    }
    if after.is_empty() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    sqlx::query(
        "UPDATE chats SET announcement_only = COALESCE($1, announcement_only), \
         description = COALESCE($2, description), version = version + 1 WHERE id = $3",
    )
    .bind(announcement_only)
    .bind(new_description)
    .bind(chat)
    .execute(&mut *tx)
    .await?;
    let (before, after) = (serde_json::Value::Object(before), serde_json::Value::Object(after));
    let (org_id, chat_id) = (roster::ids::OrgId(org), roster::ids::ChatId(chat));
    let actor = Some(roster::ids::PersonId(me.person_id));
    super::chat_admin::audit(&mut tx, org_id, chat_id, actor, "edit", None, before, after, now).await?;
    let accounts: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT p.account_id FROM chat_members m JOIN chats c ON c.id = m.chat_id \
         JOIN profile_links l ON l.person_id = m.person_id AND l.org_id = c.org_id \
         JOIN learning_profiles p ON p.id = l.profile_id WHERE m.chat_id = $1 AND m.status = 'active'",
    )
    .bind(chat)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(accounts)
}
