//! Who runs the background jobs (reconciliation at start, purges, the file
//! collector) when several nodes share one database: the node holding a
//! PostgreSQL advisory lock. The lock lives on a connection of its own, so a
//! node that dies (even by `kill -9`) lets go of it when the server sees its
//! connection close, and another node takes over. SQLite has one process.

use crate::{Pool, StorageError, Store};
use sqlx::{Connection, PgConnection};

/// The two-key advisory lock space ("PART", job): apart from the one-key
/// space the reconciliation's per-school locks use.
const LOCK_CLASS: i32 = 0x5041_5254;

/// Held by the node that runs the cluster's background jobs.
pub struct Leadership {
    /// The connection that holds the lock; `None` on SQLite.
    conn: Option<PgConnection>,
}

impl Store {
    /// Takes the lead for the background jobs named `job` if no other node
    /// holds it; `None` when one does.
    pub async fn lead(&self, job: &str) -> Result<Option<Leadership>, StorageError> {
        let Pool::Postgres(pool) = &self.pool else { return Ok(Some(Leadership { conn: None })) };
        // Taken out of the pool: dropped, it closes, and the lock goes with it.
        let mut conn = pool.acquire().await?.detach();
        let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(job)
            .fetch_one(&mut conn)
            .await?;
        Ok(held.then_some(Leadership { conn: Some(conn) }))
    }
}

impl Leadership {
    /// False once the connection holding the lock is lost: another node may
    /// have the lead by now, so this one stops.
    pub async fn holds(&mut self) -> bool {
        match &mut self.conn {
            None => true,
            Some(conn) => conn.ping().await.is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    #[tokio::test]
    async fn one_node_leads_and_another_takes_over_when_it_lets_go() {
        let db = testkit::fresh_db().await;
        let other = storage_for(&db.url).await;
        let first = db.store.lead("jobs").await.expect("lead");
        assert!(first.is_some());
        if db.store.backend() == "sqlite" {
            return;
        }
        assert!(other.lead("jobs").await.expect("lead").is_none(), "one leader at a time");
        assert!(other.lead("another job").await.expect("lead").is_some(), "jobs are led apart");
        drop(first);
        let mut taken = None;
        for _ in 0..50 {
            taken = other.lead("jobs").await.expect("lead");
            if taken.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let mut taken = taken.expect("the lead passes on once the leader's connection closes");
        assert!(taken.holds().await);
    }

    async fn storage_for(url: &str) -> crate::Store {
        crate::Store::open(url).await.expect("a second node's store")
    }
}
