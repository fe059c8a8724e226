// Safeguarding: reports, the moderation queue and its decisions, and the
// staff named responsible for safeguarding. Compiled per backend inside
// `mod safeguarding` of `mod sqlite` and `mod postgres` (see lib.rs).

use super::chat_admin::{actor_facts, audit, begin};
use super::messages::{HIDDEN_MARK, access, erase, log_event, messages_in_range, next_seq};
use crate::StorageError;
use crate::{
    Change, Decided, EventView, MessageView, MyReport, OversightEntry, OversightView, ReportReceipt, ReportView,
    SafeguardingPerson,
};
use ::messenger::report::{self as rules, Decision, ModeratorFacts, Outcome, OversightFacts, ReportFacts};
use ::messenger::{ModerationRefusal, ReportReason};
use roster::Role;
use roster::ids::{ChatId, OrgId, PersonId};
use serde_json::json;

/// Messages kept on each side of the reported one.
const CONTEXT: i64 = 3;

fn refused(r: ModerationRefusal) -> StorageError {
    StorageError::ModerationRefused(r)
}

async fn roles_in(conn: &mut Conn, org: i64, person: i64) -> Result<Vec<Role>, StorageError> {
    Ok(actor_facts(conn, OrgId(org), PersonId(person)).await?.roles.into_iter().collect())
}

async fn moderator(conn: &mut Conn, org: i64, person: i64) -> Result<(), StorageError> {
    rules::may_moderate(&moderator_facts(conn, org, person).await?).map_err(refused)
}

async fn moderator_facts(conn: &mut Conn, org: i64, person: i64) -> Result<ModeratorFacts, StorageError> {
    let roles = roles_in(conn, org, person).await?;
    // Named once, a person who left the staff moderates no more.
    let named: Option<i64> =
        sqlx::query_scalar("SELECT person_id FROM safeguarding_staff WHERE org_id = $1 AND person_id = $2")
            .bind(org)
            .bind(person)
            .fetch_optional(&mut *conn)
            .await?;
    let safeguarding = named.is_some() && roles.iter().any(|r| r.is_employee());
    Ok(ModeratorFacts { roles, safeguarding })
}

pub(crate) async fn report_message(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    reason: ReportReason,
    comment: &str,
    now: i64,
) -> Result<ReportReceipt, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    // Someone who cannot see the chat cannot see the message: not found.
    let me = access(&mut *tx, chat, account).await?;
    let row: Option<(i64, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT m.author_id, m.seq, m.deleted_at, c.org_id FROM messages m JOIN chats c ON c.id = m.chat_id \
         WHERE m.id = $1 AND m.chat_id = $2",
    )
    .bind(message)
    .bind(chat)
    .fetch_optional(&mut *tx)
    .await?;
    let (author, seq, deleted_at, org) = row.ok_or(StorageError::NotFound)?;
    if deleted_at.is_some() {
        return Err(StorageError::Refused(::messenger::Refusal::AlreadyDeleted));
    }
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM message_reports WHERE message_id = $1 AND reporter_id = $2")
            .bind(message)
            .bind(me.person_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = existing {
        return Ok(ReportReceipt { id, created: false });
    }
    let recent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM message_reports WHERE reporter_id = $1 AND created_at > $2")
            .bind(me.person_id)
            .bind(now - 3600)
            .fetch_one(&mut *tx)
            .await?;
    rules::may_report(recent).map_err(refused)?;
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(seq) FROM (SELECT seq FROM messages WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) x",
    )
    .bind(chat)
    .bind(seq)
    .bind(CONTEXT)
    .fetch_one(&mut *tx)
    .await?;
    let after: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(seq) FROM (SELECT seq FROM messages WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) x",
    )
    .bind(chat)
    .bind(seq)
    .bind(CONTEXT)
    .fetch_one(&mut *tx)
    .await?;
    let context = messages_in_range(&mut tx, chat, before.unwrap_or(seq), after.unwrap_or(seq), None).await?;
    let snapshot = serde_json::to_string(&context).map_err(|e| StorageError::Encoding(e.to_string()))?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO message_reports (org_id, chat_id, message_id, reporter_id, author_id, reason, comment, \
           snapshot, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(org)
    .bind(chat)
    .bind(message)
    .bind(me.person_id)
    .bind(author)
    .bind(reason.as_str())
    .bind(comment)
    .bind(&snapshot)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let after = json!({ "report": id, "message": message, "reason": reason.as_str() });
    let (org_id, chat_id) = (OrgId(org), ChatId(chat));
    let (by, about) = (Some(PersonId(me.person_id)), Some(PersonId(author)));
    audit(&mut tx, org_id, chat_id, by, "report", about, json!({}), after, now).await?;
    tx.commit().await?;
    Ok(ReportReceipt { id, created: true })
}

#[derive(sqlx::FromRow)]
struct MyReportRow {
    id: i64,
    chat_id: i64,
    chat_name: String,
    message_id: i64,
    reason: String,
    created_at: i64,
    status: String,
    hid: bool,
    muted_until: Option<i64>,
    removed: bool,
    note: String,
    decided_at: Option<i64>,
}

pub(crate) async fn my_reports(pool: &Pool<Db>, account: i64) -> Result<Vec<MyReport>, StorageError> {
    let rows: Vec<MyReportRow> = sqlx::query_as(
        "SELECT r.id, r.chat_id, c.name AS chat_name, r.message_id, r.reason, r.created_at, r.status, r.hid, \
           r.muted_until, r.removed, r.note, r.decided_at \
         FROM message_reports r JOIN chats c ON c.id = r.chat_id \
         JOIN profile_links l ON l.person_id = r.reporter_id AND l.org_id = r.org_id \
         JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE p.account_id = $1 ORDER BY r.id DESC LIMIT 200",
    )
    .bind(account)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MyReport {
            id: r.id,
            chat_id: r.chat_id,
            chat_name: r.chat_name,
            message_id: r.message_id,
            reason: r.reason,
            created_at: r.created_at,
            status: r.status,
            hid: r.hid,
            muted_until: r.muted_until,
            removed: r.removed,
            note: r.note,
            decided_at: r.decided_at,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    chat_id: i64,
    chat_name: String,
    chat_kind: String,
    message_id: i64,
    reason: String,
    comment: String,
    reporter_id: i64,
    reporter_name: String,
    author_id: i64,
    author_name: String,
    created_at: i64,
    status: String,
    snapshot: String,
    decided_by_name: Option<String>,
    decided_at: Option<i64>,
    hid: bool,
    muted_until: Option<i64>,
    removed: bool,
    note: String,
}

/// The queue (`open`: undecided, else decided), or one report of it.
pub(crate) async fn reports(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    open: bool,
    one: Option<i64>,
) -> Result<Vec<ReportView>, StorageError> {
    let mut conn = pool.acquire().await?;
    moderator(&mut conn, org, actor).await?;
    let rows: Vec<ReportRow> = sqlx::query_as(
        "SELECT r.id, r.chat_id, c.name AS chat_name, c.kind AS chat_kind, r.message_id, r.reason, r.comment, \
           r.reporter_id, rp.last_name || ' ' || rp.first_name AS reporter_name, \
           r.author_id, ap.last_name || ' ' || ap.first_name AS author_name, r.created_at, r.status, r.snapshot, \
           dp.last_name || ' ' || dp.first_name AS decided_by_name, r.decided_at, r.hid, r.muted_until, \
           r.removed, r.note \
         FROM message_reports r JOIN chats c ON c.id = r.chat_id \
         JOIN people rp ON rp.id = r.reporter_id JOIN people ap ON ap.id = r.author_id \
         LEFT JOIN people dp ON dp.id = r.decided_by \
         WHERE r.org_id = $1 AND (CAST($2 AS BIGINT) IS NULL AND (r.status = 'open') = $3 \
           OR r.id = CAST($2 AS BIGINT)) \
         ORDER BY r.id DESC LIMIT 200",
    )
    .bind(org)
    .bind(one)
    .bind(open)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let context: Vec<MessageView> =
                serde_json::from_str(&r.snapshot).map_err(|e| StorageError::Encoding(e.to_string()))?;
            Ok(ReportView {
                id: r.id,
                chat_id: r.chat_id,
                chat_name: r.chat_name,
                chat_kind: r.chat_kind,
                message_id: r.message_id,
                reason: r.reason,
                comment: r.comment,
                reporter_id: r.reporter_id,
                reporter_name: r.reporter_name,
                author_id: r.author_id,
                author_name: r.author_name,
                created_at: r.created_at,
                status: r.status,
                context,
                decided_by_name: r.decided_by_name,
                decided_at: r.decided_at,
                hid: r.hid,
                muted_until: r.muted_until,
                removed: r.removed,
                note: r.note,
            })
        })
        .collect()
}

pub(crate) async fn decide(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    report: i64,
    decision: Decision,
    note: &str,
    now: i64,
) -> Result<Decided, StorageError> {
    let mut tx = begin(pool, OrgId(org)).await?;
    moderator(&mut tx, org, actor).await?;
    let row: Option<(i64, i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT r.chat_id, r.message_id, r.author_id, r.reason, r.status, c.kind \
         FROM message_reports r JOIN chats c ON c.id = r.chat_id WHERE r.id = $1 AND r.org_id = $2",
    )
    .bind(report)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    let (chat, message, author, reason, status, kind) = row.ok_or(StorageError::NotFound)?;
    let facts = ReportFacts { open: status == "open", direct_chat: kind == "direct" };
    let outcome = rules::decide(facts, decision).map_err(refused)?;
    let mut decided = Decided { chat_id: chat, event: None, people: Vec::new() };
    // The chat-management audit log takes typed ids; this module's are bare still.
    let (org_id, chat_id, by, about) = (OrgId(org), ChatId(chat), Some(PersonId(actor)), Some(PersonId(author)));
    let (status, decision) = match outcome {
        Outcome::Dismissed => {
            let after = json!({ "report": report, "note": note });
            audit(&mut tx, org_id, chat_id, by, "dismiss_report", about, json!({}), after, now).await?;
            ("dismissed", Decision::default())
        }
        Outcome::Actioned(d) => {
            if d.hide {
                decided.event = hide(&mut tx, chat, message, actor, &reason, now).await?;
                let after = json!({ "report": report, "message": message, "reason": reason });
                audit(&mut tx, org_id, chat_id, by, "hide_message", about, json!({}), after, now).await?;
            }
            if let Some(minutes) = d.mute_minutes {
                let until = now + minutes * 60;
                sqlx::query("UPDATE chat_members SET muted_until = $1 WHERE chat_id = $2 AND person_id = $3")
                    .bind(until)
                    .bind(chat)
                    .bind(author)
                    .execute(&mut *tx)
                    .await?;
                let after = json!({ "report": report, "muted_until": until });
                audit(&mut tx, org_id, chat_id, by, "mute_member", about, json!({}), after, now).await?;
            }
            if d.remove {
                // Kept out like a member staff removed: the roster does not
                // bring them back.
                let removed = sqlx::query(
                    "UPDATE chat_members SET status = 'removed_by_hand', admin = FALSE \
                     WHERE chat_id = $1 AND person_id = $2 AND status <> 'removed_by_hand'",
                )
                .bind(chat)
                .bind(author)
                .execute(&mut *tx)
                .await?;
                if removed.rows_affected() > 0 {
                    let after = json!({ "report": report });
                    audit(&mut tx, org_id, chat_id, by, "remove_member", about, json!({}), after, now).await?;
                    decided.people.push(author);
                }
            }
            ("actioned", d)
        }
    };
    sqlx::query(
        "UPDATE message_reports SET status = $1, decided_by = $2, decided_at = $3, hid = $4, muted_until = $5, \
         removed = $6, note = $7 WHERE id = $8",
    )
    .bind(status)
    .bind(actor)
    .bind(now)
    .bind(decision.hide)
    .bind(decision.mute_minutes.map(|m| now + m * 60))
    .bind(decision.remove)
    .bind(note)
    .bind(report)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(decided)
}

/// Hides a message for everyone: its words go as a delete's do, and the log
/// says a moderator did it. A message already gone stays as it is.
async fn hide(
    tx: &mut Tx,
    chat: i64,
    message: i64,
    actor: i64,
    reason: &str,
    now: i64,
) -> Result<Option<EventView>, StorageError> {
    let deleted: Option<i64> =
        sqlx::query_scalar("SELECT deleted_at FROM messages WHERE id = $1").bind(message).fetch_one(&mut **tx).await?;
    if deleted.is_some() {
        return Ok(None);
    }
    erase(tx, message, now).await?;
    sqlx::query("UPDATE messages SET hidden_at = $1, hidden_reason = $2 WHERE id = $3")
        .bind(now)
        .bind(reason)
        .bind(message)
        .execute(&mut **tx)
        .await?;
    let seq = next_seq(tx, chat).await?;
    log_event(tx, chat, seq, "deleted", message, actor, Some(HIDDEN_MARK), now).await?;
    Ok(Some(EventView { chat_id: chat, seq, at: now, change: Change::Hidden { message_id: message } }))
}

pub(crate) async fn staff(pool: &Pool<Db>, org: i64, actor: i64) -> Result<Vec<SafeguardingPerson>, StorageError> {
    let mut conn = pool.acquire().await?;
    moderator(&mut conn, org, actor).await?;
    Ok(sqlx::query_as(
        "SELECT s.person_id, p.last_name || ' ' || p.first_name AS name, s.named_at \
         FROM safeguarding_staff s JOIN people p ON p.id = s.person_id WHERE s.org_id = $1 ORDER BY p.last_name, p.first_name",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await?)
}

pub(crate) async fn set_staff(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    person: i64,
    named: bool,
    now: i64,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let actor_roles = roles_in(&mut tx, org, actor).await?;
    let person_roles = roles_in(&mut tx, org, person).await?;
    if actor_roles.contains(&Role::Administrator) && person_roles.is_empty() {
        return Err(StorageError::NotFound);
    }
    rules::may_name_safeguarding(&actor_roles, &person_roles).map_err(refused)?;
    if named {
        sqlx::query(
            "INSERT INTO safeguarding_staff (org_id, person_id, named_by, named_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(org)
        .bind(person)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query("DELETE FROM safeguarding_staff WHERE org_id = $1 AND person_id = $2")
            .bind(org)
            .bind(person)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The other person of a direct chat the account's person is in.
async fn other_of_direct(conn: &mut Conn, account: i64, chat: i64) -> Result<(i64, i64), StorageError> {
    let me = access(&mut *conn, chat, account).await?;
    let kind: String =
        sqlx::query_scalar("SELECT kind FROM chats WHERE id = $1").bind(chat).fetch_one(&mut *conn).await?;
    ::messenger::may_block(kind == "direct").map_err(StorageError::Refused)?;
    let other: i64 = sqlx::query_scalar("SELECT person_id FROM chat_members WHERE chat_id = $1 AND person_id <> $2")
        .bind(chat)
        .bind(me.person_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((me.person_id, other))
}

pub(crate) async fn blocked(pool: &Pool<Db>, account: i64, chat: i64) -> Result<bool, StorageError> {
    let mut conn = pool.acquire().await?;
    let (me, other) = other_of_direct(&mut conn, account, chat).await?;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT blocker_id FROM person_blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(me)
            .bind(other)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

pub(crate) async fn set_blocked(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    block: bool,
    now: i64,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let (me, other) = other_of_direct(&mut tx, account, chat).await?;
    if block {
        sqlx::query(
            "INSERT INTO person_blocks (blocker_id, blocked_id, blocked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(me)
        .bind(other)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query("DELETE FROM person_blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(me)
            .bind(other)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Messages a moderator's opening shows: the newest this many.
const OVERSIGHT_PAGE: i64 = 200;
/// How far back members are told of openings.
const NOTICE_SECS: i64 = 30 * 24 * 3600;

pub(crate) async fn oversee(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    chat: i64,
    reason: &str,
    now: i64,
) -> Result<OversightView, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let who = moderator_facts(&mut tx, org, actor).await?;
    rules::may_moderate(&who).map_err(refused)?;
    let row: Option<(String, String)> = sqlx::query_as("SELECT kind, name FROM chats WHERE id = $1 AND org_id = $2")
        .bind(chat)
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?;
    let (kind, name) = row.ok_or(StorageError::NotFound)?;
    let students: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM chat_members m JOIN person_roles r ON r.person_id = m.person_id AND r.org_id = $2 \
         WHERE m.chat_id = $1 AND r.role = 'student'",
    )
    .bind(chat)
    .bind(org)
    .fetch_one(&mut *tx)
    .await?;
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_reports WHERE chat_id = $1")
        .bind(chat)
        .fetch_one(&mut *tx)
        .await?;
    let facts = OversightFacts { direct: kind == "direct", involves_student: students > 0, reported: reports > 0 };
    rules::may_oversee(&who, facts).map_err(refused)?;
    sqlx::query("INSERT INTO chat_oversight (org_id, chat_id, person_id, reason, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(org)
        .bind(chat)
        .bind(actor)
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let (org_id, chat_id, by) = (OrgId(org), ChatId(chat), Some(PersonId(actor)));
    audit(&mut tx, org_id, chat_id, by, "open_chat", None, json!({}), json!({ "reason": reason }), now).await?;
    let range: (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT MIN(seq), MAX(seq) FROM (SELECT seq FROM messages WHERE chat_id = $1 ORDER BY seq DESC LIMIT $2) x",
    )
    .bind(chat)
    .bind(OVERSIGHT_PAGE)
    .fetch_one(&mut *tx)
    .await?;
    let messages = match range {
        (Some(from), Some(to)) => messages_in_range(&mut tx, chat, from, to, None).await?,
        _ => Vec::new(),
    };
    tx.commit().await?;
    Ok(OversightView { chat_id: chat, chat_name: name, chat_kind: kind, messages })
}

pub(crate) async fn oversight_log(pool: &Pool<Db>, org: i64, actor: i64) -> Result<Vec<OversightEntry>, StorageError> {
    let mut conn = pool.acquire().await?;
    moderator(&mut conn, org, actor).await?;
    Ok(sqlx::query_as(
        "SELECT o.id, o.chat_id, c.name AS chat_name, c.kind AS chat_kind, o.person_id, \
           p.last_name || ' ' || p.first_name AS person_name, o.reason, o.at \
         FROM chat_oversight o JOIN chats c ON c.id = o.chat_id JOIN people p ON p.id = o.person_id \
         WHERE o.org_id = $1 ORDER BY o.id DESC LIMIT 500",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await?)
}

/// When moderators opened the chat in the last 30 days, newest first.
pub(crate) async fn oversight_notice(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    now: i64,
) -> Result<Vec<i64>, StorageError> {
    let mut conn = pool.acquire().await?;
    access(&mut *conn, chat, account).await?;
    Ok(sqlx::query_scalar("SELECT at FROM chat_oversight WHERE chat_id = $1 AND at > $2 ORDER BY at DESC")
        .bind(chat)
        .bind(now - NOTICE_SECS)
        .fetch_all(&mut *conn)
        .await?)
}
