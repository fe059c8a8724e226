// Part of `mod messages` (imports in message_queries.rs): acting on a
// message — edit, delete (erase), react, pin.

/// The body of the `deleted` event of a message a moderator hid: replay
/// tells the two apart without another column in the log.
pub(super) const HIDDEN_MARK: &str = "hidden";

/// Takes a message's words out of every table: the message, its earlier
/// versions, the events that carried edits, its files and the search index.
/// A delete does it, and so does a moderator's hide.
pub(super) async fn erase(tx: &mut Tx, message: i64, now: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE messages SET body = '', deleted_at = $1, pinned_at = NULL WHERE id = $2")
        .bind(now)
        .bind(message)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM message_edits WHERE message_id = $1").bind(message).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM message_reactions WHERE message_id = $1").bind(message).execute(&mut **tx).await?;
    sqlx::query("UPDATE chat_events SET body = NULL WHERE message_id = $1 AND kind = 'edited'")
        .bind(message)
        .execute(&mut **tx)
        .await?;
    super::files::unlink_message(tx, message).await?;
    super::search::unindex(tx, message).await?;
    Ok(())
}

/// A message as an action on it needs it: author, body, deleted, pinned, call.
type ActedOn = (i64, String, Option<i64>, Option<i64>, Option<i64>);

pub(crate) async fn act_on_message(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    action: &MessageAction,
    now: i64,
) -> Result<Option<EventView>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    let row: Option<ActedOn> = sqlx::query_as(
        "SELECT author_id, body, deleted_at, pinned_at, call_id FROM messages WHERE id = $1 AND chat_id = $2",
    )
    .bind(message)
    .bind(chat)
    .fetch_optional(&mut *tx)
    .await?;
    let (author, body, deleted_at, pinned_at, call) = row.ok_or(StorageError::NotFound)?;
    let facts = MessageFacts {
        author_is_me: author == me.person_id,
        deleted: deleted_at.is_some(),
        call_record: call.is_some(),
    };
    let refused = StorageError::Refused;
    let change = match action {
        MessageAction::Edit(text) => {
            may_edit(&me.chat, &me.member(now), &facts).map_err(refused)?;
            if text.as_str() == body {
                return Ok(None);
            }
            sqlx::query("INSERT INTO message_edits (message_id, previous_body, edited_at) VALUES ($1, $2, $3)")
                .bind(message)
                .bind(&body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE messages SET body = $1, edited_at = $2 WHERE id = $3")
                .bind(text.as_str())
                .bind(now)
                .bind(message)
                .execute(&mut *tx)
                .await?;
            super::search::reindex(&mut tx, message, chat, text.as_str()).await?;
            Change::Edited { message_id: message, text: text.as_str().to_string(), edited_at: now }
        }
        MessageAction::Delete => {
            may_delete(&me.chat, &me.member(now), &facts).map_err(refused)?;
            erase(&mut tx, message, now).await?;
            Change::Deleted { message_id: message }
        }
        MessageAction::React(reaction) | MessageAction::Unreact(reaction) => {
            may_react(&me.chat, &me.member(now)).map_err(refused)?;
            if facts.deleted {
                return Err(StorageError::Refused(::messenger::Refusal::AlreadyDeleted));
            }
            let adding = matches!(action, MessageAction::React(_));
            let changed = if adding {
                sqlx::query(
                    "INSERT INTO message_reactions (message_id, person_id, emoji, at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(message)
                .bind(me.person_id)
                .bind(reaction.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?
            } else {
                sqlx::query("DELETE FROM message_reactions WHERE message_id = $1 AND person_id = $2 AND emoji = $3")
                    .bind(message)
                    .bind(me.person_id)
                    .bind(reaction.as_str())
                    .execute(&mut *tx)
                    .await?
            };
            if changed.rows_affected() == 0 {
                return Ok(None);
            }
            let (message_id, person, emoji) = (message, me.person_id, reaction.as_str().to_string());
            if adding {
                Change::ReactionAdded { message_id, person, emoji }
            } else {
                Change::ReactionRemoved { message_id, person, emoji }
            }
        }
        MessageAction::Pin | MessageAction::Unpin => {
            may_pin(&me.chat, &me.member(now)).map_err(refused)?;
            let pin = matches!(action, MessageAction::Pin);
            if facts.deleted {
                return Err(StorageError::Refused(::messenger::Refusal::AlreadyDeleted));
            }
            if pin == pinned_at.is_some() {
                return Ok(None);
            }
            sqlx::query("UPDATE messages SET pinned_at = $1 WHERE id = $2")
                .bind(pin.then_some(now))
                .bind(message)
                .execute(&mut *tx)
                .await?;
            if pin { Change::Pinned { message_id: message } } else { Change::Unpinned { message_id: message } }
        }
    };
    let seq = next_seq(&mut tx, chat).await?;
    let (kind, body) = match &change {
        Change::Edited { text, .. } => ("edited", Some(text.as_str())),
        Change::Deleted { .. } => ("deleted", None),
        Change::ReactionAdded { emoji, .. } => ("reaction_added", Some(emoji.as_str())),
        Change::ReactionRemoved { emoji, .. } => ("reaction_removed", Some(emoji.as_str())),
        Change::Pinned { .. } => ("pinned", None),
        Change::Unpinned { .. }
        | Change::Message(_)
        | Change::Hidden { .. }
        | Change::Poll { .. }
        | Change::Consent { .. } => ("unpinned", None),
    };
    log_event(&mut tx, chat, seq, kind, message, me.person_id, body, now).await?;
    tx.commit().await?;
    Ok(Some(EventView { chat_id: chat, seq, at: now, change }))
}
