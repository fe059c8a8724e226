// School quiet hours, held pushes and «Срочно» usage, compiled per backend
// inside `mod quiet` of `mod sqlite` and `mod postgres` (see lib.rs).

use crate::{HeldChat, HeldSummary, StorageError, UrgentUse};
use ::messenger::quiet::{Period, QuietHours, WeekTime};

/// "mon 19:00 tue 08:00": one period as stored.
fn period_text(p: &Period) -> String {
    format!("{} {} {} {}", p.from.day(), p.from.time(), p.to.day(), p.to.time())
}

fn parse_period(text: &str) -> Option<Period> {
    let parts: Vec<&str> = text.split(' ').collect();
    let [from_day, from, to_day, to] = parts.as_slice() else { return None };
    Some(Period { from: WeekTime::parse(from_day, from).ok()?, to: WeekTime::parse(to_day, to).ok()? })
}

pub(crate) async fn get(pool: &Pool<Db>, org: i64) -> Result<Option<QuietHours>, StorageError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT time_zone, periods, chat_kinds FROM quiet_hours WHERE org_id = $1")
            .bind(org)
            .fetch_optional(pool)
            .await?;
    let Some((zone, periods, kinds)) = row else { return Ok(None) };
    let periods: Option<Vec<Period>> = periods.split(',').filter(|p| !p.is_empty()).map(parse_period).collect();
    let periods = periods.ok_or_else(|| StorageError::Encoding(format!("quiet hours of school {org}")))?;
    let kinds = kinds.split(',').filter(|k| !k.is_empty()).map(str::to_owned).collect();
    QuietHours::new(&zone, periods, kinds).map(Some).map_err(|e| StorageError::Encoding(e.english()))
}

pub(crate) async fn set(pool: &Pool<Db>, org: i64, quiet: &QuietHours, now: i64) -> Result<(), StorageError> {
    let periods: Vec<String> = quiet.periods().iter().map(period_text).collect();
    sqlx::query(
        "INSERT INTO quiet_hours (org_id, time_zone, periods, chat_kinds, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id) DO UPDATE SET time_zone = excluded.time_zone, periods = excluded.periods, \
         chat_kinds = excluded.chat_kinds, updated_at = excluded.updated_at",
    )
    .bind(org)
    .bind(quiet.zone())
    .bind(periods.join(","))
    .bind(quiet.kinds().join(","))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// account, person, chat, seq, release_at
pub(crate) async fn hold(pool: &Pool<Db>, held: &[(i64, i64, i64, i64, i64)]) -> Result<(), StorageError> {
    for chunk in held.chunks(500) {
        let mut q =
            sqlx::QueryBuilder::<Db>::new("INSERT INTO push_held (account_id, person_id, chat_id, seq, release_at) ");
        q.push_values(chunk, |mut row, (account, person, chat, seq, release_at)| {
            row.push_bind(*account).push_bind(*person).push_bind(*chat).push_bind(*seq).push_bind(*release_at);
        });
        q.build().execute(pool).await?;
    }
    Ok(())
}

/// account, chat, chat name, kind, unread held messages
type HeldRow = (i64, i64, String, String, i64);

pub(crate) async fn release(pool: &Pool<Db>, now: i64) -> Result<Vec<HeldSummary>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    // A message counts once per Parta ID and chat (a parent with two
    // children in the class is one reader), and not once read.
    let rows: Vec<HeldRow> = sqlx::query_as(
        "SELECT h.account_id, h.chat_id, c.name, c.kind, COUNT(DISTINCT h.seq) FROM push_held h \
         JOIN chats c ON c.id = h.chat_id \
         JOIN chat_members m ON m.chat_id = h.chat_id AND m.person_id = h.person_id \
         WHERE h.release_at <= $1 AND m.last_read_seq < h.seq AND m.status = 'active' \
         GROUP BY h.account_id, h.chat_id, c.name, c.kind ORDER BY h.account_id, h.chat_id",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM push_held WHERE release_at <= $1").bind(now).execute(&mut *tx).await?;
    tx.commit().await?;
    let mut summaries: Vec<HeldSummary> = Vec::new();
    for (account, chat, name, kind, messages) in rows {
        let held = HeldChat { chat, name, kind, messages };
        match summaries.last_mut() {
            Some(last) if last.account == account => last.chats.push(held),
            _ => summaries.push(HeldSummary { account, chats: vec![held] }),
        }
    }
    Ok(summaries)
}

/// chat, chat name, author, author name, uses
type UseRow = (i64, String, i64, String, i64);

pub(crate) async fn urgent_usage(pool: &Pool<Db>, org: i64, since: i64) -> Result<Vec<UrgentUse>, StorageError> {
    let rows: Vec<UseRow> = sqlx::query_as(
        "SELECT c.id, c.name, a.id, a.last_name || ' ' || a.first_name, COUNT(*) FROM messages m \
         JOIN chats c ON c.id = m.chat_id JOIN people a ON a.id = m.author_id \
         WHERE m.urgent AND m.created_at >= $2 AND c.org_id = $1 \
         GROUP BY c.id, c.name, a.id, a.last_name, a.first_name ORDER BY COUNT(*) DESC, c.name, a.id",
    )
    .bind(org)
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(chat, chat_name, author, author_name, uses)| UrgentUse { chat, chat_name, author, author_name, uses })
        .collect())
}
