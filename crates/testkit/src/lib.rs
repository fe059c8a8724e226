//! A fresh, migrated database for each test. SQLite in a temporary folder by
//! default; PostgreSQL when `PARTA_TEST_POSTGRES` holds a server URL (for
//! example `postgres://postgres@127.0.0.1/test`), in a new database that the
//! test drops when it is done. The same tests then prove both backends.

pub mod fixture;
pub mod nats;
pub mod s3;

use rand::Rng;
use sqlx::Connection;
use storage::Store;

pub struct TestDb {
    pub store: Store,
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

pub async fn fresh_db() -> TestDb {
    db_with(None).await
}

/// SQL dumps of one database, one per backend.
pub struct Dumps<'a> {
    pub sqlite: &'a str,
    pub postgres: &'a str,
}

/// A database loaded from the dump of its backend, then opened as Parta
/// opens it, which migrates it: an upgrade.
pub async fn db_from_dumps(dumps: Dumps<'_>) -> TestDb {
    db_with(Some(dumps)).await
}

#[allow(clippy::expect_used)]
async fn db_with(dumps: Option<Dumps<'_>>) -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    match std::env::var("PARTA_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) {
        None => {
            let url = format!("sqlite://{}/parta.db", dir.path().display());
            if let Some(dumps) = dumps {
                load(sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await, dumps.sqlite).await;
            }
            let store = Store::open(&url).await.expect("a fresh SQLite database");
            TestDb { store, url, postgres: None, _dir: dir }
        }
        Some(admin_url) => {
            let name = format!("parta_test_{}_{:08x}", std::process::id(), rand::thread_rng().r#gen::<u32>());
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("PostgreSQL from PARTA_TEST_POSTGRES");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("CREATE DATABASE");
            let url = with_database(&admin_url, &name);
            if let Some(dumps) = dumps {
                load(sqlx::PgConnection::connect(&url).await, dumps.postgres).await;
            }
            let store = Store::open(&url).await.expect("a fresh PostgreSQL database");
            TestDb { store, url, postgres: Some((admin_url, name)), _dir: dir }
        }
    }
}

/// Runs a dump on its own connection (a dump may change session settings).
#[allow(clippy::expect_used)]
async fn load<C: Connection>(conn: Result<C, sqlx::Error>, sql: &str)
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut conn = conn.expect("a connection to load the dump");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect("the dump loads");
    conn.close().await.expect("the dump's connection closes");
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// Runs raw SQL statements: for a state the application itself refuses to
    /// make (data written before a rule existed).
    #[allow(clippy::expect_used)]
    pub async fn execute(&self, sql: &str) {
        use sqlx::Executor;
        if self.postgres.is_some() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("PostgreSQL");
            conn.execute(sql).await.expect("raw SQL");
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("SQLite");
            conn.execute(sql).await.expect("raw SQL");
        }
    }

    /// Closes the pool and, on PostgreSQL, drops the test's database.
    #[allow(clippy::expect_used)]
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.postgres {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("PostgreSQL admin connection");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .expect("DROP DATABASE");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_options_kept() {
        assert_eq!(with_database("postgres://postgres@127.0.0.1/test", "x"), "postgres://postgres@127.0.0.1/x");
        assert_eq!(with_database("postgres://h:5432/test?sslmode=disable", "x"), "postgres://h:5432/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
