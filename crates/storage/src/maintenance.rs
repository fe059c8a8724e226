//! What the IT person's tools ask of the database without opening a `Store`
//! (which would migrate it): is it reachable, how far is its schema, and a
//! consistent copy of an SQLite database while Parta keeps writing to it.

use crate::StorageError;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How the schema of a database compares with this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// An SQLite file that does not exist yet: the first start creates it.
    Missing,
    /// Every migration applied, none unknown.
    Current { version: i64 },
    /// Migrations this build has and the database does not: applied at the next start.
    Behind { version: Option<i64>, pending: Vec<i64> },
    /// Migrations the database has and this build does not know: a newer
    /// Parta ran on it, and this one must not.
    Ahead { unknown: Vec<i64> },
    /// A migration started and failed: the next start stops on it.
    Dirty { version: i64 },
}

/// Connects (without creating or migrating anything) and reads the
/// migrations table. Gives up after `timeout`.
pub async fn schema(url: &str, timeout: Duration) -> Result<Schema, StorageError> {
    let (migrator, applied) = if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?.read_only(true);
        if !options.get_filename().exists() {
            return Ok(Schema::Missing);
        }
        let mut conn = connect_within(options.connect(), timeout).await?;
        (&SQLITE_MIGRATIONS, applied(&mut conn).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(url)?;
        let mut conn = connect_within(options.connect(), timeout).await?;
        (&POSTGRES_MIGRATIONS, applied(&mut conn).await?)
    } else {
        return Err(StorageError::UnsupportedUrl(url.to_string()));
    };
    Ok(compare(migrator, &applied))
}

async fn connect_within<C>(
    connecting: impl Future<Output = Result<C, sqlx::Error>>,
    timeout: Duration,
) -> Result<C, StorageError> {
    tokio::time::timeout(timeout, connecting).await.map_err(|_| sqlx::Error::PoolTimedOut)?.map_err(Into::into)
}

/// (version, succeeded) of every migration the database recorded; none for a
/// database Parta never started on.
async fn applied<C>(conn: &mut C) -> Result<Vec<(i64, bool)>, StorageError>
where
    C: Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
    (i64, bool): for<'r> sqlx::FromRow<'r, <C::Database as sqlx::Database>::Row>,
{
    match sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version").fetch_all(&mut *conn).await {
        Ok(rows) => Ok(rows),
        // No such table: nothing was ever applied.
        Err(sqlx::Error::Database(e)) if e.message().contains("_sqlx_migrations") => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

fn compare(migrator: &Migrator, applied: &[(i64, bool)]) -> Schema {
    if let Some((version, _)) = applied.iter().find(|(_, ok)| !ok) {
        return Schema::Dirty { version: *version };
    }
    let known: HashSet<i64> = migrator.iter().map(|m| m.version).collect();
    let have: HashSet<i64> = applied.iter().map(|(v, _)| *v).collect();
    let unknown: Vec<i64> = applied.iter().map(|(v, _)| *v).filter(|v| !known.contains(v)).collect();
    if !unknown.is_empty() {
        return Schema::Ahead { unknown };
    }
    let pending: Vec<i64> = migrator.iter().map(|m| m.version).filter(|v| !have.contains(v)).collect();
    let version = applied.iter().map(|(v, _)| *v).max();
    match (pending.is_empty(), version) {
        (true, Some(version)) => Schema::Current { version },
        _ => Schema::Behind { version, pending },
    }
}

/// The file of an `sqlite:` URL; `None` for any other database.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok().filter(|_| url.starts_with("sqlite:"))?;
    Some(options.get_filename().to_path_buf())
}

/// Writes a consistent copy of the SQLite database at `url` to `dest` (which
/// must not exist) with `VACUUM INTO`: one read transaction, so writers carry
/// on and the copy holds exactly what was committed when it began.
pub async fn snapshot_sqlite(url: &str, dest: &Path) -> Result<(), StorageError> {
    let options = SqliteConnectOptions::from_str(url)?.read_only(true).busy_timeout(Duration::from_secs(30));
    let mut conn = options.connect().await?;
    let dest = dest.to_str().ok_or_else(|| StorageError::Encoding(format!("{} is not UTF-8", dest.display())))?;
    sqlx::query("VACUUM INTO $1").bind(dest).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_compared_with_this_builds_migrations() {
        let all: Vec<(i64, bool)> = SQLITE_MIGRATIONS.iter().map(|m| (m.version, true)).collect();
        let last = all.last().map(|(v, _)| *v).unwrap_or_default();
        assert_eq!(compare(&SQLITE_MIGRATIONS, &all), Schema::Current { version: last });
        assert_eq!(
            compare(&SQLITE_MIGRATIONS, &all[..1]),
            Schema::Behind { version: Some(all[0].0), pending: all[1..].iter().map(|(v, _)| *v).collect() }
        );
        let mut newer = all.clone();
        newer.push((9999, true));
        assert_eq!(compare(&SQLITE_MIGRATIONS, &newer), Schema::Ahead { unknown: vec![9999] });
        assert_eq!(compare(&SQLITE_MIGRATIONS, &[(1, true), (2, false)]), Schema::Dirty { version: 2 });
        assert!(matches!(compare(&SQLITE_MIGRATIONS, &[]), Schema::Behind { version: None, .. }));
    }
}
