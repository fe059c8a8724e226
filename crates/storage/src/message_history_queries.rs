// Part of `mod messages` (imports in message_queries.rs): reading messages
// back — one, a range, a history page, the pinned ones, events after a seq.

/// The columns of a message view; `m` is the message, `a` its author, `r` and
/// `ra` the message it replies to and that one's author.
const MESSAGE_COLUMNS: &str = "SELECT m.id, m.chat_id, m.seq, m.author_id, \
       a.last_name || ' ' || a.first_name || COALESCE(' ' || a.middle_name, '') AS author_name, \
       m.client_id, m.body, m.mentions, m.created_at, m.edited_at, m.deleted_at IS NOT NULL AS deleted, \
       m.pinned_at IS NOT NULL AS pinned, r.id AS reply_id, \
       ra.last_name || ' ' || ra.first_name AS reply_author, r.body AS reply_body, \
       r.deleted_at IS NOT NULL AS reply_deleted, m.call_id, m.hidden_at IS NOT NULL AS hidden, m.hidden_reason, m.urgent \
     FROM messages m JOIN people a ON a.id = m.author_id \
     LEFT JOIN messages r ON r.id = m.reply_to LEFT JOIN people ra ON ra.id = r.author_id ";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    chat_id: i64,
    seq: i64,
    author_id: i64,
    author_name: String,
    client_id: String,
    body: String,
    mentions: String,
    created_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
    pinned: bool,
    reply_id: Option<i64>,
    reply_author: Option<String>,
    reply_body: Option<String>,
    reply_deleted: Option<bool>,
    call_id: Option<i64>,
    hidden: bool,
    hidden_reason: Option<String>,
    urgent: bool,
}

impl MessageRow {
    fn into_view(self, viewer: Option<i64>, reactions: Vec<ReactionView>) -> MessageView {
        let reply_to = self.reply_id.map(|id| ReplyPreview {
            id,
            author_name: self.reply_author.unwrap_or_default(),
            preview: ::messenger::preview(self.reply_body.as_deref().unwrap_or(""), PREVIEW_CHARS),
            deleted: self.reply_deleted.unwrap_or(false),
        });
        MessageView {
            id: self.id,
            chat: self.chat_id,
            seq: self.seq,
            client_id: (viewer == Some(self.author_id)).then_some(self.client_id),
            author: Author { person: self.author_id, name: self.author_name },
            text: self.body,
            reply_to,
            mentions: split_ids(&self.mentions),
            created_at: self.created_at,
            edited_at: self.edited_at,
            deleted: self.deleted,
            // Everyone sees that a moderator hid it; only its author is told why.
            hidden: self.hidden.then(|| crate::Hidden {
                reason: self.hidden_reason.filter(|_| viewer.is_some() && viewer == Some(self.author_id)),
            }),
            pinned: self.pinned,
            urgent: self.urgent,
            reactions,
            attachments: Vec::new(),
            call: None,
            poll: None,
            consent: None,
        }
    }

    /// The call it records, unless the record was deleted.
    fn live_call(&self) -> Option<i64> {
        self.call_id.filter(|_| !self.deleted)
    }
}

/// Groups `(message_id, emoji, person_id)` rows, in reaction order.
fn group_reactions(rows: Vec<(i64, String, i64)>) -> HashMap<i64, Vec<ReactionView>> {
    let mut by_message: HashMap<i64, Vec<ReactionView>> = HashMap::new();
    for (message, emoji, person) in rows {
        let reactions = by_message.entry(message).or_default();
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.people.push(person),
            None => reactions.push(ReactionView { emoji, people: vec![person] }),
        }
    }
    by_message
}

pub(super) async fn message_by_id(
    conn: &mut <Db as sqlx::Database>::Connection,
    id: i64,
    viewer: Option<i64>,
) -> Result<MessageView, StorageError> {
    let row: MessageRow = sqlx::query_as(&format!("{MESSAGE_COLUMNS} WHERE m.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StorageError::NotFound)?;
    let reactions: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT message_id, emoji, person_id FROM message_reactions WHERE message_id = $1 ORDER BY at, person_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let reactions = group_reactions(reactions).remove(&id).unwrap_or_default();
    let call = match row.live_call() {
        Some(call) => super::calls::records_of(conn, &[call]).await?.remove(&call),
        None => None,
    };
    let mut view = row.into_view(viewer, reactions);
    view.attachments = super::files::attachments_of(conn, &[id]).await?.remove(&id).unwrap_or_default();
    view.call = call;
    if !view.deleted {
        view.poll = super::polls::views_of(conn, &[id], viewer).await?.remove(&id);
        view.consent = super::consent::views_of(conn, &[id], viewer).await?.remove(&id);
    }
    Ok(view)
}

/// Message views of one chat whose `seq` lies in `[from, to]`, oldest first.
pub(super) async fn messages_in_range(
    conn: &mut <Db as sqlx::Database>::Connection,
    chat: i64,
    from: i64,
    to: i64,
    viewer: Option<i64>,
) -> Result<Vec<MessageView>, StorageError> {
    let rows: Vec<MessageRow> =
        sqlx::query_as(&format!("{MESSAGE_COLUMNS} WHERE m.chat_id = $1 AND m.seq BETWEEN $2 AND $3 ORDER BY m.seq"))
            .bind(chat)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?;
    let reactions: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT x.message_id, x.emoji, x.person_id FROM message_reactions x JOIN messages m ON m.id = x.message_id \
         WHERE m.chat_id = $1 AND m.seq BETWEEN $2 AND $3 ORDER BY x.at, x.person_id",
    )
    .bind(chat)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut reactions = group_reactions(reactions);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut files = super::files::attachments_of(conn, &ids).await?;
    // Call records like attachments: one lookup for the page (none when the
    // page records no call).
    let calls: Vec<i64> = rows.iter().filter_map(MessageRow::live_call).collect();
    let mut records = if calls.is_empty() { HashMap::new() } else { super::calls::records_of(conn, &calls).await? };
    let live: Vec<i64> = rows.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    let mut polls = super::polls::views_of(conn, &live, viewer).await?;
    let mut forms = super::consent::views_of(conn, &live, viewer).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let r = reactions.remove(&row.id).unwrap_or_default();
            let id = row.id;
            let call = row.live_call().and_then(|c| records.remove(&c));
            let mut view = row.into_view(viewer, r);
            view.attachments = files.remove(&id).unwrap_or_default();
            view.call = call;
            view.poll = polls.remove(&id);
            view.consent = forms.remove(&id);
            view
        })
        .collect())
}

pub(crate) async fn history(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    range: HistoryRange,
) -> Result<HistoryPage, StorageError> {
    // One transaction: the page and `last_seq` describe the same moment.
    let mut tx: Tx = pool.begin().await?;
    let me = access(&mut *tx, chat, account).await?;
    let last_seq: i64 =
        sqlx::query_scalar("SELECT last_seq FROM chats WHERE id = $1").bind(chat).fetch_one(&mut *tx).await?;
    let (from, to, has_more) = match range {
        HistoryRange::Before { seq, limit } => {
            let before = seq.unwrap_or(i64::MAX);
            let seqs: Vec<i64> = sqlx::query_scalar(
                "SELECT seq FROM messages WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            )
            .bind(chat)
            .bind(before)
            .bind(limit + 1)
            .fetch_all(&mut *tx)
            .await?;
            let has_more = seqs.len() as i64 > limit;
            let page = &seqs[..seqs.len().min(usize::try_from(limit).unwrap_or(0))];
            match (page.last(), page.first()) {
                (Some(&oldest), Some(&newest)) => (oldest, newest, has_more),
                _ => (1, 0, false),
            }
        }
        HistoryRange::After { seq, limit } => {
            let seqs: Vec<i64> =
                sqlx::query_scalar("SELECT seq FROM messages WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                    .bind(chat)
                    .bind(seq)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
            match (seqs.first(), seqs.last()) {
                (Some(&first), Some(&last)) => (first, last, false),
                _ => (1, 0, false),
            }
        }
    };
    let messages =
        if from <= to { messages_in_range(&mut tx, chat, from, to, Some(me.person_id)).await? } else { Vec::new() };
    tx.commit().await?;
    Ok(HistoryPage { messages, last_seq, has_more })
}

pub(crate) async fn pinned_messages(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
) -> Result<Vec<MessageView>, StorageError> {
    let mut conn = pool.acquire().await?;
    let me = access(&mut *conn, chat, account).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE chat_id = $1 AND pinned_at IS NOT NULL ORDER BY pinned_at DESC",
    )
    .bind(chat)
    .fetch_all(&mut *conn)
    .await?;
    let mut pinned = Vec::with_capacity(ids.len());
    for id in ids {
        pinned.push(message_by_id(&mut conn, id, Some(me.person_id)).await?);
    }
    Ok(pinned)
}

pub(crate) async fn events_after(
    pool: &Pool<Db>,
    chat: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<EventView>, StorageError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(i64, String, i64, i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT seq, kind, message_id, actor_id, body, at FROM chat_events WHERE chat_id = $1 AND seq > $2 \
         ORDER BY seq LIMIT $3",
    )
    .bind(chat)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let created: Vec<i64> = rows.iter().filter(|r| r.1 == "message").map(|r| r.0).collect();
    let mut messages: HashMap<i64, MessageView> = match (created.first(), created.last()) {
        (Some(&from), Some(&to)) => {
            messages_in_range(&mut conn, chat, from, to, None).await?.into_iter().map(|m| (m.seq, m)).collect()
        }
        _ => HashMap::new(),
    };
    let mut events = Vec::with_capacity(rows.len());
    for (seq, kind, message_id, actor, body, at) in rows {
        let change = match kind.as_str() {
            "message" => match messages.remove(&seq) {
                Some(m) => Change::Message(Box::new(m)),
                None => continue,
            },
            "edited" => Change::Edited { message_id, text: body.unwrap_or_default(), edited_at: at },
            "deleted" if body.as_deref() == Some(HIDDEN_MARK) => Change::Hidden { message_id },
            "deleted" => Change::Deleted { message_id },
            "reaction_added" => Change::ReactionAdded { message_id, person: actor, emoji: body.unwrap_or_default() },
            "reaction_removed" => {
                Change::ReactionRemoved { message_id, person: actor, emoji: body.unwrap_or_default() }
            }
            "pinned" => Change::Pinned { message_id },
            // The results as they are now: a later vote's event says the same.
            "poll" => match super::polls::views_of(&mut conn, &[message_id], None).await?.remove(&message_id) {
                Some(poll) => Change::Poll { message_id, poll: Box::new(poll.for_everyone()) },
                None => continue,
            },
            // What every member may see of the form now; no family's answer.
            "consent" => match super::consent::views_of(&mut conn, &[message_id], None).await?.remove(&message_id) {
                Some(consent) => Change::Consent { message_id, consent: Box::new(consent) },
                None => continue,
            },
            _ => Change::Unpinned { message_id },
        };
        events.push(EventView { chat_id: chat, seq, at, change });
    }
    Ok(events)
}
