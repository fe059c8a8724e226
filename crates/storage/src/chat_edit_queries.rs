// Part of `mod chat_admin` (imports in chat_admin_queries.rs): a managed
// chat's life — created, edited, archived, deleted, restored, purged.

pub(crate) async fn create_chat(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
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
    let others: Vec<PersonId> = dedup(&draft.members).into_iter().filter(|&p| p != actor).collect();
    check_additions(&mut tx, org, &facts, &others).await?;
    let everyone: Vec<PersonId> = std::iter::once(actor).chain(others.iter().copied()).collect();
    let linked = linked_people(&mut tx, org, &everyone).await?;

    let chat: ChatId = sqlx::query_scalar(
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
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
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
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
    wanted: ArchiveChange,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let archived = wanted == ArchiveChange::Archive;
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
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
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
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
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

// ---------------------------------------------------------------- purge

/// Erases a chat's messages, log, reactions, edits, search terms, calls,
/// reports, scheduled messages and members; the row stays for the audit log, where `action` says
/// why it went (a deleted chat's purge, or the school's retention).
pub(super) async fn purge_chat(
    tx: &mut Tx,
    org: OrgId,
    chat: ChatId,
    action: &str,
    now: i64,
) -> Result<(), StorageError> {
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

pub(crate) async fn purge_deleted(pool: &Pool<Db>, now: i64) -> Result<Vec<(OrgId, ChatId)>, StorageError> {
    const DUE: &str = "SELECT org_id, id FROM chats WHERE deleted_at IS NOT NULL AND purged_at IS NULL \
         AND deleted_at <= $1 ORDER BY id";
    let cutoff = now - PURGE_AFTER_SECS;
    // Nearly always nothing is due: find out without taking the write lock.
    let due: Vec<(OrgId, ChatId)> = sqlx::query_as(DUE).bind(cutoff).fetch_all(pool).await?;
    if due.is_empty() {
        return Ok(due);
    }
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let due: Vec<(OrgId, ChatId)> = sqlx::query_as(DUE).bind(cutoff).fetch_all(&mut *tx).await?;
    for &(org, chat) in &due {
        purge_chat(&mut tx, org, chat, "purge", now).await?;
    }
    tx.commit().await?;
    Ok(due)
}
