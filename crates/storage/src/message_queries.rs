// The messenger: messages, the chat event log, reactions, pins, read
// positions and direct chats. Compiled per backend inside `mod messages` of
// `mod sqlite` and `mod postgres` (see lib.rs).

use crate::Change;
use crate::{
    Author, ChatSettings, ChatSummary, Committed, Conflict, EventView, HistoryPage, HistoryRange, LastMessage,
    MemberView, Membership, MessageAction, MessageView, NewMessage, ReactionView, ReadMark, ReplyPreview, StorageError,
};
use ::messenger::{
    ChatFacts, ChatState, DmPolicy, DmRule, MemberFacts, MessageFacts, Party, PersonDmFacts, may_delete, may_edit,
    may_pin, may_post, may_react, may_start_direct,
};
use roster::Role;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// How long a chat list preview is.
const PREVIEW_CHARS: usize = 120;

/// The viewer's standing in one chat.
pub(super) struct Access {
    pub(super) person_id: i64,
    pub(super) admin: bool,
    /// A moderator muted the viewer here until then.
    pub(super) muted_until: Option<i64>,
    /// A direct chat whose other person blocked the viewer.
    pub(super) blocked: bool,
    pub(super) chat: ChatFacts,
}

/// A chat `c` with its organisation `o`, a member `m` and the member's link
/// `l` to a learning profile `p`.
pub(super) const MEMBER_JOINS: &str = "FROM chats c JOIN orgs o ON o.id = c.org_id \
     JOIN chat_members m ON m.chat_id = c.id \
     JOIN profile_links l ON l.person_id = m.person_id AND l.org_id = c.org_id \
     JOIN learning_profiles p ON p.id = l.profile_id";

/// The member `m` of the chat `c` is blocked by the chat's other person (a
/// direct chat only: a block never reaches a group chat).
const BLOCKED: &str = "EXISTS (SELECT 1 FROM person_blocks b JOIN chat_members o \
     ON o.chat_id = c.id AND o.person_id = b.blocker_id WHERE c.kind = 'direct' AND b.blocked_id = m.person_id)";

/// The access rule: an active member, linked, in an organisation whose chats
/// are on; hidden chats are out of reach like missing ones.
pub(super) const REACHABLE: &str = "m.status = 'active' AND c.state <> 'read_only_hidden' \
     AND o.chats_enabled AND o.kind = 'general_education'";

pub(super) async fn access<'e, E: sqlx::Executor<'e, Database = Db>>(
    conn: E,
    chat: i64,
    account: i64,
) -> Result<Access, StorageError> {
    let query = format!(
        "SELECT m.person_id, m.admin, m.muted_until, {BLOCKED}, c.state, c.announcement_only {MEMBER_JOINS} \
         WHERE c.id = $1 AND p.account_id = $2 AND {REACHABLE}"
    );
    let row: Option<(i64, bool, Option<i64>, bool, String, bool)> =
        sqlx::query_as(&query).bind(chat).bind(account).fetch_optional(conn).await?;
    let (person_id, admin, muted_until, blocked, state, announcement_only) = row.ok_or(StorageError::NotFound)?;
    let state = ChatState::parse(&state).ok_or(StorageError::NotFound)?;
    Ok(Access { person_id, admin, muted_until, blocked, chat: ChatFacts { state, announcement_only } })
}

impl Access {
    pub(super) fn member(&self, now: i64) -> MemberFacts {
        MemberFacts {
            admin: self.admin,
            muted: self.muted_until.is_some_and(|until| until > now),
            blocked: self.blocked,
        }
    }
}

/// The next sequence number of a chat. The row lock it takes orders
/// concurrent writers of one chat (PostgreSQL; SQLite has one writer).
pub(super) async fn next_seq(tx: &mut Tx, chat: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("UPDATE chats SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
        .bind(chat)
        .fetch_one(&mut **tx)
        .await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn log_event(
    tx: &mut Tx,
    chat: i64,
    seq: i64,
    kind: &str,
    message: i64,
    actor: i64,
    body: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_events (chat_id, seq, kind, message_id, actor_id, body, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(chat)
    .bind(seq)
    .bind(kind)
    .bind(message)
    .bind(actor)
    .bind(body)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The sender's standing in a chat, with what a new message's view needs.
struct Sender {
    access: Access,
    name: String,
}

/// A message that passed every check and waits for the batch's inserts.
struct Accepted {
    index: usize,
    chat_id: i64,
    seq: i64,
    author: i64,
    mentions: Vec<i64>,
    view: MessageView,
}

/// What became of one send of a batch.
enum Verdict {
    Done(Box<Result<Committed, StorageError>>),
    /// A retry of the batch's send at this index.
    SameAs(usize),
    /// Written with the batch; its answer comes after the commit.
    Accepted,
}

/// Appends a batch in one transaction with a handful of statements: access,
/// the sequence counter and the member list are read once per chat (or
/// sender), the messages and their events are inserted many rows at a time,
/// and each chat's counter is written once.
pub(crate) async fn append_messages(
    pool: &Pool<Db>,
    batch: &[NewMessage],
) -> Result<Vec<Result<Committed, StorageError>>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(batch.len());
    let senders = senders_of(&mut tx, batch).await?;
    let existing = existing_messages(&mut tx, batch, &senders).await?;
    let mut counters: HashMap<i64, i64> = HashMap::new();
    let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
    // A retry can land in the same batch as the send it repeats.
    let mut in_batch: HashMap<(i64, i64, &str), usize> = HashMap::new();
    // Uploads a message of this batch took: no other message may.
    let mut claimed: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut accepted: Vec<Accepted> = Vec::new();
    for (index, new) in batch.iter().enumerate() {
        let Some(me) = senders.get(&(new.chat_id, new.account_id)) else {
            verdicts.push(Verdict::Done(Box::new(Err(StorageError::NotFound))));
            continue;
        };
        let person = me.access.person_id;
        if let Some(&first) = in_batch.get(&(new.chat_id, person, new.client_id.as_str())) {
            verdicts.push(Verdict::SameAs(first));
            continue;
        }
        if let Some(&id) = existing.get(&(new.chat_id, person, new.client_id.as_str().to_string())) {
            let message = message_by_id(&mut tx, id, Some(person)).await?;
            let committed =
                Committed { chat_id: new.chat_id, seq: message.seq, message_id: id, duplicate: true, message };
            verdicts.push(Verdict::Done(Box::new(Ok(committed))));
            continue;
        }
        if let Err(refusal) = may_post(&me.access.chat, &me.access.member(new.now)) {
            verdicts.push(Verdict::Done(Box::new(Err(StorageError::Refused(refusal)))));
            continue;
        }
        if new.urgent && !me.access.admin {
            verdicts.push(Verdict::Done(Box::new(Err(StorageError::Refused(::messenger::Refusal::UrgentNotAdmin)))));
            continue;
        }
        let reply_to = match new.reply_to {
            None => None,
            Some(reply) => match reply_preview(&mut tx, new.chat_id, reply).await? {
                Some(preview) => Some(preview),
                None => {
                    verdicts.push(Verdict::Done(Box::new(Err(StorageError::Conflict(Conflict::ReplyOutsideChat)))));
                    continue;
                }
            },
        };
        let mentions = if new.mentions.is_empty() {
            Vec::new()
        } else {
            if let Entry::Vacant(slot) = members.entry(new.chat_id) {
                slot.insert(
                    sqlx::query_scalar("SELECT person_id FROM chat_members WHERE chat_id = $1 AND status = 'active'")
                        .bind(new.chat_id)
                        .fetch_all(&mut *tx)
                        .await?,
                );
            }
            let ids = members.get(&new.chat_id).map(Vec::as_slice).unwrap_or_default();
            ::messenger::mentions(&new.mentions, |id| ids.contains(&id))
        };
        let consent = match &new.consent {
            None => None,
            Some(form) => match super::consent::may_create(&mut tx, new.chat_id, me.access.admin).await? {
                Ok(students) => Some(super::consent::fresh(form, students)),
                Err(refusal) => {
                    verdicts.push(Verdict::Done(Box::new(Err(StorageError::ConsentRefused(refusal)))));
                    continue;
                }
            },
        };
        let attachments = match super::files::pending_of(&mut tx, new.chat_id, person, &new.attachments).await? {
            Some(files) if files.iter().all(|f| claimed.insert(f.id)) => files,
            _ => {
                let refused = StorageError::Conflict(Conflict::AttachmentUnavailable);
                verdicts.push(Verdict::Done(Box::new(Err(refused))));
                continue;
            }
        };
        let seq = match counters.get_mut(&new.chat_id) {
            Some(last) => {
                *last += 1;
                *last
            }
            None => {
                // Reading the counter through an UPDATE takes the chat's row
                // lock (PostgreSQL) until commit: concurrent nodes queue here.
                let last: i64 =
                    sqlx::query_scalar("UPDATE chats SET last_seq = last_seq WHERE id = $1 RETURNING last_seq")
                        .bind(new.chat_id)
                        .fetch_one(&mut *tx)
                        .await?;
                counters.insert(new.chat_id, last + 1);
                last + 1
            }
        };
        in_batch.insert((new.chat_id, person, new.client_id.as_str()), index);
        let view = MessageView {
            id: 0,
            chat: new.chat_id,
            seq,
            author: Author { person, name: me.name.clone() },
            text: new.text.as_str().to_string(),
            reply_to,
            mentions: mentions.clone(),
            created_at: new.now,
            edited_at: None,
            deleted: false,
            hidden: None,
            pinned: false,
            urgent: new.urgent,
            reactions: Vec::new(),
            client_id: Some(new.client_id.as_str().to_string()),
            attachments,
            call: None,
            poll: new.poll.as_ref().map(super::polls::fresh),
            consent,
        };
        accepted.push(Accepted { index, chat_id: new.chat_id, seq, author: person, mentions, view });
        verdicts.push(Verdict::Accepted);
    }
    insert_accepted(&mut tx, batch, &mut accepted).await?;
    {
        // Attachments and the search index, in the batch's transaction.
        for a in &accepted {
            super::files::link(&mut tx, a.view.id, &a.view.attachments).await?;
            if let Some(poll) = &batch[a.index].poll {
                super::polls::insert(&mut tx, a.view.id, poll).await?;
            }
            if let Some(form) = &batch[a.index].consent {
                super::consent::insert(&mut tx, a.view.id, form).await?;
            }
        }
        let indexed: Vec<super::search::Indexed<'_>> = accepted
            .iter()
            .map(|a| super::search::Indexed {
                id: a.view.id,
                chat: a.chat_id,
                text: &a.view.text,
                names: a.view.attachments.iter().map(|f| f.name.clone()).collect(),
            })
            .collect();
        super::search::index(&mut tx, &indexed).await?;
    }
    for (chat, last) in &counters {
        sqlx::query("UPDATE chats SET last_seq = $1 WHERE id = $2").bind(last).bind(chat).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let committed: HashMap<usize, Committed> = accepted
        .into_iter()
        .map(|a| {
            let c =
                Committed { chat_id: a.chat_id, seq: a.seq, message_id: a.view.id, duplicate: false, message: a.view };
            (a.index, c)
        })
        .collect();
    let mut out = Vec::with_capacity(verdicts.len());
    for (index, verdict) in verdicts.into_iter().enumerate() {
        out.push(match verdict {
            Verdict::Done(result) => *result,
            Verdict::SameAs(first) => {
                committed.get(&first).map(|c| Committed { duplicate: true, ..c.clone() }).ok_or(StorageError::NotFound)
            }
            Verdict::Accepted => committed.get(&index).cloned().ok_or(StorageError::NotFound),
        });
    }
    Ok(out)
}

/// Rows per `IN (VALUES …)` lookup: three parameters each at most.
const LOOKUP_CHUNK: usize = 400;

/// Each sender's standing and name in the chat they write to, one query per
/// chunk of the batch; a (chat, account) without access is absent.
async fn senders_of(tx: &mut Tx, batch: &[NewMessage]) -> Result<HashMap<(i64, i64), Sender>, StorageError> {
    let mut keys: Vec<(i64, i64)> = batch.iter().map(|n| (n.chat_id, n.account_id)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut senders = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT c.id, p.account_id, m.person_id, m.admin, m.muted_until, {BLOCKED}, c.state, c.announcement_only, \
               a.last_name || ' ' || a.first_name || COALESCE(' ' || a.middle_name, '') \
             {MEMBER_JOINS} JOIN people a ON a.id = m.person_id WHERE {REACHABLE} AND (c.id, p.account_id) IN (VALUES "
        ));
        let mut values = q.separated(", ");
        for (chat, account) in chunk {
            values.push("(").push_bind_unseparated(*chat).push_unseparated(", ");
            values.push_bind_unseparated(*account).push_unseparated(")");
        }
        q.push(")");
        type Row = (i64, i64, i64, bool, Option<i64>, bool, String, bool, String);
        let rows: Vec<Row> = q.build_query_as().fetch_all(&mut **tx).await?;
        for (chat, account, person_id, admin, muted_until, blocked, state, announcement_only, name) in rows {
            let Some(state) = ChatState::parse(&state) else { continue };
            let chat_facts = ChatFacts { state, announcement_only };
            let access = Access { person_id, admin, muted_until, blocked, chat: chat_facts };
            senders.entry((chat, account)).or_insert(Sender { access, name });
        }
    }
    Ok(senders)
}

/// Messages the batch's sends already made (they are retries), by (chat,
/// author, client id).
async fn existing_messages(
    tx: &mut Tx,
    batch: &[NewMessage],
    senders: &HashMap<(i64, i64), Sender>,
) -> Result<HashMap<(i64, i64, String), i64>, StorageError> {
    let keys: Vec<(i64, i64, &str)> = batch
        .iter()
        .filter_map(|n| {
            let me = senders.get(&(n.chat_id, n.account_id))?;
            Some((n.chat_id, me.access.person_id, n.client_id.as_str()))
        })
        .collect();
    let mut existing = HashMap::new();
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT chat_id, author_id, client_id, id FROM messages WHERE (chat_id, author_id, client_id) IN (VALUES ",
        );
        let mut values = q.separated(", ");
        for (chat, author, client_id) in chunk {
            values.push("(").push_bind_unseparated(*chat).push_unseparated(", ");
            values.push_bind_unseparated(*author).push_unseparated(", ");
            values.push_bind_unseparated(client_id.to_string()).push_unseparated(")");
        }
        q.push(")");
        let rows: Vec<(i64, i64, String, i64)> = q.build_query_as().fetch_all(&mut **tx).await?;
        existing.extend(rows.into_iter().map(|(chat, author, client_id, id)| ((chat, author, client_id), id)));
    }
    Ok(existing)
}

/// The preview of the message replied to, if it is in this chat.
async fn reply_preview(tx: &mut Tx, chat: i64, reply: i64) -> Result<Option<ReplyPreview>, StorageError> {
    let row: Option<(i64, String, String, bool)> = sqlx::query_as(
        "SELECT m.chat_id, a.last_name || ' ' || a.first_name, m.body, m.deleted_at IS NOT NULL \
         FROM messages m JOIN people a ON a.id = m.author_id WHERE m.id = $1",
    )
    .bind(reply)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.filter(|r| r.0 == chat).map(|(_, author_name, body, deleted)| ReplyPreview {
        id: reply,
        author_name,
        preview: ::messenger::preview(&body, PREVIEW_CHARS),
        deleted,
    }))
}

/// Rows per multi-row INSERT: 8 parameters a message, well under both
/// backends' limits.
const INSERT_CHUNK: usize = 500;

/// Inserts the accepted messages and their `message` events, and fills in
/// the new ids.
async fn insert_accepted(tx: &mut Tx, batch: &[NewMessage], accepted: &mut [Accepted]) -> Result<(), StorageError> {
    for chunk in accepted.chunks_mut(INSERT_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO messages (chat_id, seq, author_id, client_id, body, reply_to, mentions, created_at, urgent) ",
        );
        q.push_values(chunk.iter(), |mut row, a| {
            let new = &batch[a.index];
            row.push_bind(a.chat_id)
                .push_bind(a.seq)
                .push_bind(a.author)
                .push_bind(new.client_id.as_str().to_string())
                .push_bind(new.text.as_str().to_string())
                .push_bind(new.reply_to)
                .push_bind(join_ids(&a.mentions))
                .push_bind(new.now)
                .push_bind(new.urgent);
        });
        q.push(" RETURNING id, chat_id, seq");
        let ids: Vec<(i64, i64, i64)> = q.build_query_as().fetch_all(&mut **tx).await?;
        let ids: HashMap<(i64, i64), i64> = ids.into_iter().map(|(id, chat, seq)| ((chat, seq), id)).collect();
        for a in chunk.iter_mut() {
            a.view.id = ids.get(&(a.chat_id, a.seq)).copied().ok_or(StorageError::NotFound)?;
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO chat_events (chat_id, seq, kind, message_id, actor_id, body, at) ",
        );
        q.push_values(chunk.iter(), |mut row, a| {
            row.push_bind(a.chat_id)
                .push_bind(a.seq)
                .push_bind("message")
                .push_bind(a.view.id)
                .push_bind(a.author)
                .push_bind(None::<String>)
                .push_bind(batch[a.index].now);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn split_ids(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|p| p.parse().ok()).collect()
}

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

/// Who a person is for the direct-message rules: their parties, the classes
/// they are in (as a student, a teacher of the class or one of its sections,
/// or a guardian of one of its students) and their family.
async fn dm_facts(tx: &mut Tx, org: i64, person: i64) -> Result<PersonDmFacts, StorageError> {
    let roles: Vec<String> = sqlx::query_scalar("SELECT role FROM person_roles WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_all(&mut **tx)
        .await?;
    let parties = roles.iter().filter_map(|r| Role::parse(r)).map(Party::of).collect();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT e.role, e.class_id FROM enrollments e JOIN classes c ON c.id = e.class_id \
           WHERE e.person_id = $1 AND e.active AND c.org_id = $2 AND c.active \
         UNION SELECT e.role, s.class_id FROM enrollments e JOIN sections s ON s.id = e.section_id \
           WHERE e.person_id = $1 AND e.active AND s.org_id = $2 AND s.active AND s.class_id IS NOT NULL \
         UNION SELECT 'guardian', e.class_id FROM guardianships g JOIN enrollments e ON e.person_id = g.student_id \
           JOIN classes c ON c.id = e.class_id \
           WHERE g.guardian_id = $1 AND e.active AND e.role = 'student' AND c.org_id = $2 AND c.active",
    )
    .bind(person)
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let classes = rows
        .into_iter()
        .filter_map(|(role, class)| {
            let party = match role.as_str() {
                "student" => Party::Student,
                "teacher" => Party::Teacher,
                "guardian" => Party::Guardian,
                _ => return None,
            };
            Some((party, class))
        })
        .collect();
    let family: Vec<i64> = sqlx::query_scalar(
        "SELECT student_id FROM guardianships WHERE guardian_id = $1 \
         UNION SELECT guardian_id FROM guardianships WHERE student_id = $1",
    )
    .bind(person)
    .fetch_all(&mut **tx)
    .await?;
    Ok(PersonDmFacts { person_id: person, parties, classes, family })
}

async fn policy_in(tx: &mut Tx, org: i64) -> Result<DmPolicy, StorageError> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT from_party, to_party, rule FROM dm_policy WHERE org_id = $1")
            .bind(org)
            .fetch_all(&mut **tx)
            .await?;
    let mut policy = DmPolicy::default();
    for (from, to, rule) in rows {
        if let (Some(from), Some(to), Some(rule)) = (Party::parse(&from), Party::parse(&to), DmRule::parse(&rule)) {
            policy.set(from, to, rule);
        }
    }
    Ok(policy)
}

pub(crate) async fn dm_policy(pool: &Pool<Db>, org: i64) -> Result<DmPolicy, StorageError> {
    let mut tx: Tx = pool.begin().await?;
    let policy = policy_in(&mut tx, org).await?;
    tx.commit().await?;
    Ok(policy)
}

pub(crate) async fn set_dm_policy(pool: &Pool<Db>, org: i64, policy: &DmPolicy) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query("DELETE FROM dm_policy WHERE org_id = $1").bind(org).execute(&mut *tx).await?;
    let defaults = DmPolicy::default();
    for (from, to, rule) in policy.entries() {
        if defaults.rule(from, to) == rule {
            continue;
        }
        sqlx::query("INSERT INTO dm_policy (org_id, from_party, to_party, rule) VALUES ($1, $2, $3, $4)")
            .bind(org)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(rule.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn direct_chat(
    pool: &Pool<Db>,
    account: i64,
    org: i64,
    person: i64,
    now: i64,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let chats_on: Option<bool> =
        sqlx::query_scalar("SELECT chats_enabled AND kind = 'general_education' FROM orgs WHERE id = $1 AND active")
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
    if chats_on != Some(true) {
        return Err(StorageError::NotFound);
    }
    let me: Option<i64> = sqlx::query_scalar(
        "SELECT l.person_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE p.account_id = $1 AND l.org_id = $2",
    )
    .bind(account)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    let me = me.ok_or(StorageError::NotFound)?;
    let target_here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.person_id = $1 AND r.org_id = $2 AND p.active",
    )
    .bind(person)
    .bind(org)
    .fetch_one(&mut *tx)
    .await?;
    if target_here == 0 {
        return Err(StorageError::NotFound);
    }
    let policy = policy_in(&mut tx, org).await?;
    let from = dm_facts(&mut tx, org, me).await?;
    let to = dm_facts(&mut tx, org, person).await?;
    may_start_direct(&policy, &from, &to).map_err(StorageError::DirectRefused)?;
    let linked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_one(&mut *tx)
        .await?;
    if linked == 0 {
        return Err(StorageError::Conflict(Conflict::NotLinkedYet));
    }
    let key = format!("{}:{}", me.min(person), me.max(person));
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM chats WHERE org_id = $1 AND kind = 'direct' AND direct_key = $2")
            .bind(org)
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
    let chat = match existing {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO chats (org_id, kind, name, created_at, direct_key) VALUES ($1, 'direct', '', $2, $3) \
                 RETURNING id",
            )
            .bind(org)
            .bind(now)
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    for member in [me, person] {
        sqlx::query(
            "INSERT INTO chat_members (chat_id, person_id, admin, source, status, reasons) \
             VALUES ($1, $2, FALSE, 'manual', 'active', '') \
             ON CONFLICT (chat_id, person_id) DO UPDATE SET status = 'active'",
        )
        .bind(chat)
        .bind(member)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(chat)
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
    super::chat_admin::audit(&mut tx, org, chat, Some(me.person_id), "edit", None, before, after, now).await?;
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
