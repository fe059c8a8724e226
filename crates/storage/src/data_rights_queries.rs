// A person's rights over their data (issue 21, items 5–6): copies of their
// data, erasure of a former member's Parta ID data, and the retention of past
// years' archived chats. Compiled per backend inside `mod data_rights` of
// `mod sqlite` and `mod postgres` (see lib.rs).

use super::chat_admin::{begin, purge_chat};
use crate::{
    ErasurePlan, ExportChat, ExportData, ExportFile, ExportJob, ExportMessage, ExportSchoolAccount, FormerMember,
    RetentionChat, RetentionSetting, RightsAuditEntry, StorageError,
};
use ::identity::event::{IdentityEvent, UnlinkReason};
use ::identity::rights::{self as rules, RightsRefusal, Subject};
use roster::ids::{ChatId, OrgId};
use roster::retention::Retention;
use serde_json::{Value, json};

fn refused(r: RightsRefusal) -> StorageError {
    StorageError::RightsRefused(r)
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    tx: &mut Tx,
    org: i64,
    actor: Option<i64>,
    person: Option<i64>,
    action: &str,
    reason: &str,
    details: Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO data_rights_audit (org_id, actor_person_id, person_id, action, reason, details, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org)
    .bind(actor)
    .bind(person)
    .bind(action)
    .bind(reason)
    .bind(details.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the school knows of `person`: a role there (now or once), the
/// roster's active flag, an active enrollment in the school, an erasure.
async fn subject(conn: &mut Conn, org: i64, person: i64) -> Result<Subject, StorageError> {
    let roles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_roles WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    let active: Option<bool> =
        sqlx::query_scalar("SELECT active FROM people WHERE id = $1").bind(person).fetch_optional(&mut *conn).await?;
    let enrolled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM enrollments e LEFT JOIN classes c ON c.id = e.class_id \
         LEFT JOIN sections s ON s.id = e.section_id \
         WHERE e.person_id = $1 AND e.active AND (c.org_id = $2 OR s.org_id = $2)",
    )
    .bind(person)
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    let erased: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM data_rights_audit WHERE org_id = $1 AND person_id = $2 AND action = 'erasure'",
    )
    .bind(org)
    .bind(person)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Subject { in_school: roles > 0, active: active.unwrap_or(false), enrolled: enrolled > 0, erased: erased > 0 })
}

pub(crate) async fn audit_log(pool: &Pool<Db>, org: i64) -> Result<Vec<RightsAuditEntry>, StorageError> {
    let mut lines: Vec<RightsAuditEntry> = sqlx::query_as(
        "SELECT d.id, d.action, \
           CASE WHEN a.id IS NULL THEN NULL ELSE a.last_name || ' ' || a.first_name END AS actor_name, d.person_id, \
           CASE WHEN p.id IS NULL THEN NULL ELSE p.last_name || ' ' || p.first_name END AS person_name, \
           d.reason, d.details, d.at \
         FROM data_rights_audit d LEFT JOIN people a ON a.id = d.actor_person_id \
         LEFT JOIN people p ON p.id = d.person_id WHERE d.org_id = $1 ORDER BY d.id DESC LIMIT 500",
    )
    .bind(org)
    .fetch_all(pool)
    .await?;
    for line in &mut lines {
        line.details = serde_json::from_str(&line.details_json).unwrap_or(Value::Null);
    }
    Ok(lines)
}

// ---------------------------------------------------------------- exports

const JOB: &str = "SELECT e.id, e.account_id, e.org_id, e.person_id, \
       CASE WHEN p.id IS NULL THEN NULL ELSE p.last_name || ' ' || p.first_name END AS person_name, \
       e.status, e.progress, e.sha256, e.size, e.created_at, e.ready_at, e.expires_at \
     FROM data_exports e LEFT JOIN people p ON p.id = e.person_id";

/// A copy of the account's own data; one still being made is the one asked.
pub(crate) async fn create_self_export(pool: &Pool<Db>, account: i64, now: i64) -> Result<ExportJob, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM data_exports WHERE account_id = $1 AND status = 'pending' ORDER BY id DESC LIMIT 1",
    )
    .bind(account)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match pending {
        Some(id) => id,
        None => {
            sqlx::query_scalar("INSERT INTO data_exports (account_id, created_at) VALUES ($1, $2) RETURNING id")
                .bind(account)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    tx.commit().await?;
    export_job(pool, id).await
}

/// An administrator's copy of a person's data in their school, audited.
pub(crate) async fn create_org_export(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    person: i64,
    reason: &str,
    now: i64,
) -> Result<ExportJob, StorageError> {
    let mut tx = begin(pool, OrgId(org)).await?;
    rules::may_export_for(subject(&mut tx, org, person).await?).map_err(refused)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO data_exports (org_id, person_id, requested_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(org)
    .bind(person)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, org, Some(actor), Some(person), "export", reason, json!({ "export": id }), now).await?;
    tx.commit().await?;
    export_job(pool, id).await
}

pub(crate) async fn export_job(pool: &Pool<Db>, id: i64) -> Result<ExportJob, StorageError> {
    sqlx::query_as(&format!("{JOB} WHERE e.id = $1")).bind(id).fetch_optional(pool).await?.ok_or(StorageError::NotFound)
}

/// The account's copies, newest first.
pub(crate) async fn account_exports(pool: &Pool<Db>, account: i64) -> Result<Vec<ExportJob>, StorageError> {
    Ok(sqlx::query_as(&format!("{JOB} WHERE e.account_id = $1 ORDER BY e.id DESC LIMIT 10"))
        .bind(account)
        .fetch_all(pool)
        .await?)
}

/// The copies the school's administrators made, newest first.
pub(crate) async fn org_exports(pool: &Pool<Db>, org: i64) -> Result<Vec<ExportJob>, StorageError> {
    Ok(sqlx::query_as(&format!("{JOB} WHERE e.org_id = $1 ORDER BY e.id DESC LIMIT 50"))
        .bind(org)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn pending_exports(pool: &Pool<Db>) -> Result<Vec<i64>, StorageError> {
    Ok(sqlx::query_scalar("SELECT id FROM data_exports WHERE status = 'pending' ORDER BY id").fetch_all(pool).await?)
}

pub(crate) async fn set_export_progress(pool: &Pool<Db>, id: i64, progress: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE data_exports SET progress = $1 WHERE id = $2 AND status = 'pending'")
        .bind(progress)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The zip is stored: downloadable for a day from now.
pub(crate) async fn finish_export(
    pool: &Pool<Db>,
    id: i64,
    sha256: &str,
    size: i64,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE data_exports SET status = 'ready', progress = 100, sha256 = $1, size = $2, ready_at = $3, \
         expires_at = $4 WHERE id = $5 AND status = 'pending'",
    )
    .bind(sha256)
    .bind(size)
    .bind(now)
    .bind(rules::export_expires_at(now))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn fail_export(pool: &Pool<Db>, id: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE data_exports SET status = 'failed' WHERE id = $1 AND status = 'pending'")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Marks the copies past their day expired; returns their zips' hashes for
/// the file store to delete (no attachment ever shares a zip's bytes: the
/// hashes are checked against `blobs`).
pub(crate) async fn expire_exports(pool: &Pool<Db>, now: i64) -> Result<Vec<String>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let due: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, sha256 FROM data_exports WHERE status = 'ready' AND expires_at <= $1")
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
    let mut gone = Vec::new();
    for (id, sha) in due {
        sqlx::query("UPDATE data_exports SET status = 'expired', sha256 = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let Some(sha) = sha else { continue };
        let shared: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM blobs WHERE sha256 = $1").bind(&sha).fetch_one(&mut *tx).await?;
        if shared == 0 {
            gone.push(sha);
        }
    }
    tx.commit().await?;
    Ok(gone)
}

/// Everything a copy holds: for a person's own copy, every school account
/// their Parta ID holds; for an administrator's, the person in that school.
pub(crate) async fn export_data(pool: &Pool<Db>, job: &ExportJob) -> Result<ExportData, StorageError> {
    let mut conn = pool.acquire().await?;
    let (account, people): (Option<i64>, Vec<(i64, i64)>) = match (job.account_id, job.org_id, job.person_id) {
        (Some(account), _, _) => {
            let links: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT l.person_id, l.org_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
                 WHERE p.account_id = $1 ORDER BY l.id",
            )
            .bind(account)
            .fetch_all(&mut *conn)
            .await?;
            (Some(account), links)
        }
        (None, Some(org), Some(person)) => {
            let account: Option<i64> = sqlx::query_scalar(
                "SELECT p.account_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
                 WHERE l.person_id = $1 AND l.org_id = $2",
            )
            .bind(person)
            .bind(org)
            .fetch_optional(&mut *conn)
            .await?;
            (account, vec![(person, org)])
        }
        _ => return Err(StorageError::NotFound),
    };
    let profile = match account {
        Some(account) => {
            sqlx::query_as(
                "SELECT a.phone, a.login, a.last_name, a.first_name, a.middle_name, a.created_at, \
                   lp.last_name AS profile_last_name, lp.first_name AS profile_first_name, \
                   lp.middle_name AS profile_middle_name \
                 FROM accounts a LEFT JOIN learning_profiles lp ON lp.account_id = a.id WHERE a.id = $1",
            )
            .bind(account)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => None,
    };
    let mut data = ExportData { profile, school_accounts: vec![], chats: vec![], messages: vec![], files: vec![] };
    for (person, org) in people {
        let mut account: Option<ExportSchoolAccount> = sqlx::query_as(
            "SELECT o.name AS org_name, p.id AS person_id, p.last_name, p.first_name, p.middle_name, p.login, \
               (SELECT linked_at FROM profile_links l WHERE l.person_id = p.id AND l.org_id = o.id) AS linked_at \
             FROM people p, orgs o WHERE p.id = $1 AND o.id = $2",
        )
        .bind(person)
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(a) = account.as_mut() {
            a.roles =
                sqlx::query_scalar("SELECT role FROM person_roles WHERE person_id = $1 AND org_id = $2 ORDER BY role")
                    .bind(person)
                    .bind(org)
                    .fetch_all(&mut *conn)
                    .await?;
        }
        data.school_accounts.extend(account);
        data.chats.extend(
            sqlx::query_as::<_, ExportChat>(
                "SELECT c.id AS chat_id, o.name AS org_name, c.name, c.kind, c.state, m.admin, m.status, m.source, \
                   m.reasons FROM chat_members m JOIN chats c ON c.id = m.chat_id JOIN orgs o ON o.id = c.org_id \
                 WHERE m.person_id = $1 AND c.org_id = $2 AND c.purged_at IS NULL ORDER BY c.id",
            )
            .bind(person)
            .bind(org)
            .fetch_all(&mut *conn)
            .await?,
        );
        data.messages.extend(
            sqlx::query_as::<_, ExportMessage>(
                "SELECT m.id, m.chat_id, c.name AS chat_name, m.body AS text, m.created_at, m.edited_at \
                 FROM messages m JOIN chats c ON c.id = m.chat_id \
                 WHERE m.author_id = $1 AND c.org_id = $2 AND m.deleted_at IS NULL AND m.call_id IS NULL \
                 ORDER BY m.chat_id, m.seq",
            )
            .bind(person)
            .bind(org)
            .fetch_all(&mut *conn)
            .await?,
        );
        data.files.extend(
            sqlx::query_as::<_, ExportFile>(
                "SELECT f.id, f.chat_id, f.message_id, f.name, f.mime, f.size, f.sha256, f.created_at \
                 FROM files f JOIN chats c ON c.id = f.chat_id \
                 WHERE f.uploader_id = $1 AND c.org_id = $2 AND f.message_id IS NOT NULL ORDER BY f.id",
            )
            .bind(person)
            .bind(org)
            .fetch_all(&mut *conn)
            .await?,
        );
    }
    Ok(data)
}

// ---------------------------------------------------------------- erasure

pub(crate) async fn former_members(pool: &Pool<Db>, org: i64) -> Result<Vec<FormerMember>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT p.id AS person_id, p.last_name, p.first_name, p.middle_name FROM people p \
         WHERE NOT p.active AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1) \
           AND NOT EXISTS (SELECT 1 FROM data_rights_audit d WHERE d.org_id = $1 AND d.person_id = p.id \
             AND d.action = 'erasure') \
         ORDER BY p.last_name, p.first_name, p.id LIMIT 500",
    )
    .bind(org)
    .fetch_all(pool)
    .await?)
}

/// What erasing `person`'s data in `org` takes away (a refusal if it may not).
async fn erasure_plan_in(conn: &mut Conn, org: i64, person: i64) -> Result<ErasurePlan, StorageError> {
    rules::may_erase(subject(conn, org, person).await?).map_err(refused)?;
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).bind(person).bind(org);
    let messages = count(
        "SELECT COUNT(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.author_id = $1 AND c.org_id = $2",
    )
    .fetch_one(&mut *conn)
    .await?;
    let (files, file_bytes): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(f.size) AS BIGINT) FROM files f JOIN chats c ON c.id = f.chat_id \
         WHERE f.uploader_id = $1 AND c.org_id = $2",
    )
    .bind(person)
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    let reactions = count(
        "SELECT COUNT(*) FROM message_reactions r JOIN messages m ON m.id = r.message_id \
         JOIN chats c ON c.id = m.chat_id WHERE r.person_id = $1 AND c.org_id = $2",
    )
    .fetch_one(&mut *conn)
    .await?;
    let votes = count(
        "SELECT COUNT(*) FROM poll_votes v JOIN messages m ON m.id = v.message_id \
         JOIN chats c ON c.id = m.chat_id WHERE v.person_id = $1 AND c.org_id = $2",
    )
    .fetch_one(&mut *conn)
    .await?;
    let memberships = count(
        "SELECT COUNT(*) FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.person_id = $1 AND c.org_id = $2",
    )
    .fetch_one(&mut *conn)
    .await?;
    let link: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT l.id, l.profile_id, p.account_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE l.person_id = $1 AND l.org_id = $2",
    )
    .bind(person)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?;
    let other_links: i64 = match link {
        Some((id, profile, _)) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE profile_id = $1 AND id <> $2")
                .bind(profile)
                .bind(id)
                .fetch_one(&mut *conn)
                .await?
        }
        None => 0,
    };
    Ok(ErasurePlan {
        messages,
        files,
        file_bytes: file_bytes.unwrap_or(0),
        reactions,
        votes,
        memberships,
        link: link.is_some(),
        parta_id: link.is_some() && other_links == 0,
        link_ids: link,
    })
}

pub(crate) async fn erasure_plan(pool: &Pool<Db>, org: i64, person: i64) -> Result<ErasurePlan, StorageError> {
    let mut conn = pool.acquire().await?;
    erasure_plan_in(&mut conn, org, person).await
}

/// Erases a former member's Parta ID data in the school: their messages stay
/// in the chats' history under «Удалённый пользователь» (a placeholder
/// school account with no roles takes their authorship, so nothing that
/// names the person remains attached to them), their files, reactions,
/// votes, memberships and blocks go, the link goes, and the Parta ID itself
/// is erased when no other school holds it. Reports keep their evidence.
pub(crate) async fn erase_person(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    person: i64,
    reason: &str,
    now: i64,
) -> Result<ErasurePlan, StorageError> {
    let mut tx = begin(pool, OrgId(org)).await?;
    let plan = erasure_plan_in(&mut tx, org, person).await?;
    let placeholder: i64 = sqlx::query_scalar(
        "INSERT INTO people (last_name, first_name, active, search_key) \
         VALUES ('Удалённый', 'пользователь', FALSE, '') RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await?;
    const IN_ORG: &str = "SELECT id FROM chats WHERE org_id = $2";
    const IN_ORG_MESSAGES: &str = "SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.org_id = $2";
    // The bytes of removed files are collected with the file store's
    // garbage: marking their blobs untouched lets the next collection take them.
    sqlx::query(&format!(
        "UPDATE blobs SET touched_at = 0 WHERE sha256 IN (SELECT sha256 FROM files WHERE uploader_id = $1 \
           AND chat_id IN ({IN_ORG}) UNION SELECT thumb_sha256 FROM files WHERE uploader_id = $1 \
           AND chat_id IN ({IN_ORG}))"
    ))
    .bind(person)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    for sql in [
        format!("DELETE FROM files WHERE uploader_id = $1 AND chat_id IN ({IN_ORG})"),
        format!("DELETE FROM message_reactions WHERE person_id = $1 AND message_id IN ({IN_ORG_MESSAGES})"),
        format!("DELETE FROM poll_votes WHERE person_id = $1 AND message_id IN ({IN_ORG_MESSAGES})"),
        format!("DELETE FROM chat_members WHERE person_id = $1 AND chat_id IN ({IN_ORG})"),
        // Messages not sent yet are nobody's record: they go.
        format!("DELETE FROM scheduled_messages WHERE person_id = $1 AND chat_id IN ({IN_ORG})"),
        "DELETE FROM person_blocks WHERE blocker_id = $1 OR blocked_id = $1".to_string(),
        format!("UPDATE messages SET author_id = $3 WHERE author_id = $1 AND chat_id IN ({IN_ORG})"),
        format!("UPDATE chat_events SET actor_id = $3 WHERE actor_id = $1 AND chat_id IN ({IN_ORG})"),
        format!("UPDATE calls SET started_by = $3 WHERE started_by = $1 AND chat_id IN ({IN_ORG})"),
        format!(
            "UPDATE call_participants SET person_id = $3 WHERE person_id = $1 \
             AND call_id IN (SELECT id FROM calls WHERE chat_id IN ({IN_ORG}))"
        ),
        format!(
            "UPDATE message_reminders SET person_id = $3 WHERE person_id = $1 AND message_id IN ({IN_ORG_MESSAGES})"
        ),
        // A consent answer is the school's record about a child: it stays,
        // given by «Удалённый пользователь».
        format!("UPDATE consent_answers SET person_id = $3 WHERE person_id = $1 AND message_id IN ({IN_ORG_MESSAGES})"),
        format!(
            "UPDATE consent_reminders SET person_id = $3 WHERE person_id = $1 AND message_id IN ({IN_ORG_MESSAGES})"
        ),
    ] {
        // PostgreSQL refuses a value bound to no placeholder.
        let mut query = sqlx::query(&sql).bind(person);
        if sql.contains("$2") {
            query = query.bind(org);
        }
        if sql.contains("$3") {
            query = query.bind(placeholder);
        }
        query.execute(&mut *tx).await?;
    }
    if let Some((link_id, profile_id, account)) = plan.link_ids {
        if plan.parta_id {
            super::identity::erase_account(&mut tx, account, now).await?;
        } else {
            let event = IdentityEvent::ProfileUnlinked {
                org_id: org,
                person_id: person,
                profile_id,
                reason: UnlinkReason::AccountDeleted,
            };
            super::identity::remove_link(&mut tx, link_id, event, now).await?;
        }
    }
    audit(&mut tx, org, Some(actor), Some(person), "erasure", reason, plan.counts(), now).await?;
    tx.commit().await?;
    Ok(plan)
}

// ---------------------------------------------------------------- retention

pub(crate) async fn retention(pool: &Pool<Db>, org: i64) -> Result<RetentionSetting, StorageError> {
    let years: Option<i64> =
        sqlx::query_scalar("SELECT retention_years FROM orgs WHERE id = $1").bind(org).fetch_optional(pool).await?;
    let years = years.ok_or(StorageError::NotFound)?;
    Ok(RetentionSetting { years: Retention::from_years(Some(years)).unwrap_or(Retention::DEFAULT).years() })
}

pub(crate) async fn set_retention(
    pool: &Pool<Db>,
    org: i64,
    actor: i64,
    retention: Retention,
    now: i64,
) -> Result<RetentionSetting, StorageError> {
    let mut tx = begin(pool, OrgId(org)).await?;
    let before: i64 = sqlx::query_scalar("SELECT retention_years FROM orgs WHERE id = $1")
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
    sqlx::query("UPDATE orgs SET retention_years = $1 WHERE id = $2")
        .bind(retention.stored())
        .bind(org)
        .execute(&mut *tx)
        .await?;
    let details = json!({ "before": before, "after": retention.stored() });
    audit(&mut tx, org, Some(actor), None, "retention_setting", "", details, now).await?;
    tx.commit().await?;
    Ok(RetentionSetting { years: retention.years() })
}

/// The archived chats of years that ended on or before `cutoff` (YYYY-MM-DD):
/// a class's or a section's chat belongs to the year of its class or section.
async fn due_chats(conn: &mut Conn, org: i64, cutoff: &str) -> Result<Vec<RetentionChat>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT c.id AS chat_id, c.name, c.kind, y.title AS year, y.end_date AS year_end, \
           (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS messages, \
           (SELECT COUNT(*) FROM files f WHERE f.chat_id = c.id) AS files \
         FROM chats c LEFT JOIN classes cl ON cl.id = c.class_id LEFT JOIN sections s ON s.id = c.section_id \
         JOIN academic_years y ON y.id = COALESCE(c.year_id, cl.year_id, s.year_id) \
         WHERE c.org_id = $1 AND c.state = 'archived' AND c.purged_at IS NULL AND y.end_date <= $2 \
         ORDER BY y.end_date, c.id",
    )
    .bind(org)
    .bind(cutoff)
    .fetch_all(&mut *conn)
    .await?)
}

/// What the school's retention deletes on `today`.
pub(crate) async fn retention_preview(
    pool: &Pool<Db>,
    org: i64,
    retention: Retention,
    today: chrono::NaiveDate,
) -> Result<Vec<RetentionChat>, StorageError> {
    let Some(cutoff) = retention.cutoff(today) else { return Ok(vec![]) };
    let mut conn = pool.acquire().await?;
    due_chats(&mut conn, org, &cutoff.format("%Y-%m-%d").to_string()).await
}

/// Deletes every school's archived chats that are due on `today`, one
/// transaction a school, with an audit line each; returns (school, chats).
pub(crate) async fn run_retention(
    pool: &Pool<Db>,
    today: chrono::NaiveDate,
    now: i64,
) -> Result<Vec<(i64, usize)>, StorageError> {
    let orgs: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, retention_years FROM orgs WHERE retention_years > 0").fetch_all(pool).await?;
    let mut done = Vec::new();
    for (org, years) in orgs {
        let Some(cutoff) = Retention::from_years(Some(years)).ok().and_then(|r| r.cutoff(today)) else { continue };
        let cutoff = cutoff.format("%Y-%m-%d").to_string();
        // Nearly always nothing is due: find out without taking the write lock.
        if due_chats(&mut *pool.acquire().await?, org, &cutoff).await?.is_empty() {
            continue;
        }
        let mut tx = begin(pool, OrgId(org)).await?;
        let due = due_chats(&mut tx, org, &cutoff).await?;
        for chat in &due {
            purge_chat(&mut tx, OrgId(org), ChatId(chat.chat_id), "retention", now).await?;
        }
        let details = json!({
            "years": years,
            "cutoff": cutoff,
            "chats": due.iter().map(|c| c.chat_id).collect::<Vec<_>>(),
            "messages": due.iter().map(|c| c.messages).sum::<i64>(),
            "files": due.iter().map(|c| c.files).sum::<i64>(),
        });
        audit(&mut tx, org, None, None, "retention", "", details, now).await?;
        tx.commit().await?;
        done.push((org, due.len()));
    }
    Ok(done)
}
