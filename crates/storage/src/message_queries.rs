// The messenger: messages, the chat event log, reactions, pins, read
// positions and direct chats. Compiled per backend inside `mod messages` of
// `mod sqlite` and `mod postgres` (see lib.rs), together with
// message_history_queries.rs, message_action_queries.rs, chat_list_queries.rs
// and direct_chat_queries.rs, which use the imports here. This file: a
// member's access, the chat sequence and event log, and appending messages.

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
    reserve_seqs(tx, chat, 1).await
}

/// Takes the chat's next `count` sequence numbers, under its row lock, with
/// one statement; returns the last of them.
async fn reserve_seqs(tx: &mut Tx, chat: i64, count: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("UPDATE chats SET last_seq = last_seq + $1 WHERE id = $2 RETURNING last_seq")
        .bind(count)
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
    author: i64,
    mentions: Vec<i64>,
    /// Its `seq` is set by `number_accepted`, its `id` by `insert_accepted`.
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
    let Lookup { senders, existing } = look_up(&mut tx, batch).await?;
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
        in_batch.insert((new.chat_id, person, new.client_id.as_str()), index);
        let view = MessageView {
            id: 0,
            chat: new.chat_id,
            seq: 0,
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
        accepted.push(Accepted { index, chat_id: new.chat_id, author: person, mentions, view });
        verdicts.push(Verdict::Accepted);
    }
    number_accepted(&mut tx, &mut accepted).await?;
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
    tx.commit().await?;
    let committed: HashMap<usize, Committed> = accepted
        .into_iter()
        .map(|a| {
            let c = Committed {
                chat_id: a.chat_id,
                seq: a.view.seq,
                message_id: a.view.id,
                duplicate: false,
                message: a.view,
            };
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

/// Gives the accepted messages their chats' next sequence numbers, in batch
/// order, with one statement per chat. The chats are taken in id order, so two
/// nodes' batches that share chats lock their rows in the same order
/// (PostgreSQL) and never deadlock.
async fn number_accepted(tx: &mut Tx, accepted: &mut [Accepted]) -> Result<(), StorageError> {
    let mut counts: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for a in accepted.iter() {
        *counts.entry(a.chat_id).or_default() += 1;
    }
    let mut next: HashMap<i64, i64> = HashMap::with_capacity(counts.len());
    for (chat, count) in counts {
        let last = reserve_seqs(tx, chat, count).await?;
        next.insert(chat, last - count + 1);
    }
    for a in accepted.iter_mut() {
        let seq = next.get_mut(&a.chat_id).ok_or(StorageError::NotFound)?;
        a.view.seq = *seq;
        *seq += 1;
    }
    Ok(())
}

/// Rows per lookup: three parameters each.
const LOOKUP_CHUNK: usize = 400;

/// The batch's senders and the messages its sends already made.
struct Lookup {
    /// Each sender's standing and name in the chat they write to; a (chat,
    /// account) without access is absent.
    senders: HashMap<(i64, i64), Sender>,
    /// Messages that sends of the batch repeat (retries), by (chat, author,
    /// client id).
    existing: HashMap<(i64, i64, String), i64>,
}

/// Who sends and which sends are retries, with one query per chunk of the
/// batch: a round trip saved per batch is throughput under load.
async fn look_up(tx: &mut Tx, batch: &[NewMessage]) -> Result<Lookup, StorageError> {
    let mut keys: Vec<(i64, i64, &str)> =
        batch.iter().map(|n| (n.chat_id, n.account_id, n.client_id.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut found = Lookup { senders: HashMap::new(), existing: HashMap::new() };
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new("WITH sends (chat, account, client) AS (VALUES ");
        let mut values = q.separated(", ");
        for (chat, account, client_id) in chunk {
            values.push("(").push_bind_unseparated(*chat).push_unseparated(", ");
            values.push_bind_unseparated(*account).push_unseparated(", ");
            values.push_bind_unseparated(client_id.to_string()).push_unseparated(")");
        }
        // MEMBER_JOINS and REACHABLE's rule, joined from the sends outwards:
        // account → profile → links → the chat's membership by its primary
        // key. CROSS JOIN is how SQLite is told that order (PostgreSQL plans
        // it freely); left to itself SQLite walked every member of the chat,
        // or every membership there is, for each send. The retry is a scalar
        // lookup by the full unique key: as a join, PostgreSQL with stale
        // statistics walked the chat's messages by (chat_id, seq) instead.
        q.push(format!(
            ") SELECT c.id, p.account_id, m.person_id, m.admin, m.muted_until, {BLOCKED}, c.state, c.announcement_only, \
               a.last_name || ' ' || a.first_name || COALESCE(' ' || a.middle_name, ''), s.client, \
               (SELECT e.id FROM messages e WHERE e.chat_id = c.id AND e.author_id = m.person_id AND e.client_id = s.client) \
             FROM sends s CROSS JOIN learning_profiles p CROSS JOIN profile_links l CROSS JOIN chats c \
               CROSS JOIN chat_members m JOIN orgs o ON o.id = c.org_id JOIN people a ON a.id = m.person_id \
             WHERE p.account_id = s.account AND l.profile_id = p.id AND c.id = s.chat AND l.org_id = c.org_id \
               AND m.chat_id = c.id AND m.person_id = l.person_id AND {REACHABLE}"
        ));
        type Row = (i64, i64, i64, bool, Option<i64>, bool, String, bool, String, String, Option<i64>);
        let rows: Vec<Row> = q.build_query_as().fetch_all(&mut **tx).await?;
        for (chat, account, person_id, admin, muted_until, blocked, state, announcement_only, name, client, existing) in
            rows
        {
            if let Some(id) = existing {
                found.existing.insert((chat, person_id, client), id);
            }
            let Some(state) = ChatState::parse(&state) else { continue };
            let chat_facts = ChatFacts { state, announcement_only };
            let access = Access { person_id, admin, muted_until, blocked, chat: chat_facts };
            found.senders.entry((chat, account)).or_insert(Sender { access, name });
        }
    }
    Ok(found)
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
                .push_bind(a.view.seq)
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
            a.view.id = ids.get(&(a.chat_id, a.view.seq)).copied().ok_or(StorageError::NotFound)?;
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO chat_events (chat_id, seq, kind, message_id, actor_id, body, at) ",
        );
        q.push_values(chunk.iter(), |mut row, a| {
            row.push_bind(a.chat_id)
                .push_bind(a.view.seq)
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
