// Part of `mod chat_admin` (imports in chat_admin_queries.rs): the audit log
// of chat management, written by every change and read by the portal.

#[allow(clippy::too_many_arguments)]
pub(super) async fn audit(
    tx: &mut Tx,
    org: OrgId,
    chat: ChatId,
    actor: Option<PersonId>,
    action: &str,
    person: Option<PersonId>,
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

// ---------------------------------------------------------------- audit

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    chat_id: ChatId,
    chat_name: String,
    actor_id: Option<PersonId>,
    actor_name: Option<String>,
    action: String,
    person_id: Option<PersonId>,
    person_name: Option<String>,
    before: String,
    after: String,
}

pub(crate) async fn audit_log(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
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
