//! Background work that must happen once in the cluster, not once per node:
//! catching the automatic chats up with the roster after a start, logging
//! the poll results a stopped node left unlogged, remaking
//! the copies of people's data a restart interrupted, purging deleted chats,
//! retention (expired copies, archived chats past the school's years),
//! collecting unreferenced files, the summaries of what quiet hours held,
//! sending scheduled messages when they are due. The node that holds the
//! database's lead ([`storage::Leadership`]) runs them; the others wait and
//! take over when it dies. One process on SQLite simply always leads.

use crate::AppState;
use crate::messenger::files::{BLOB_GRACE, PENDING_GRACE};
use std::time::Duration;
use tokio::sync::watch;

/// The lock's name: one leader for all these jobs.
const LEAD: &str = "background jobs";
/// How often a node that does not lead asks again, and the leader checks
/// that it still does.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Votes whose node stopped before their results' event (a live node logs
/// its own within a fraction of a second, so this finds only those).
const POLLS_EVERY: Duration = Duration::from_secs(30);
const PURGE_EVERY: Duration = Duration::from_secs(3600);
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
const COLLECT_EVERY: Duration = Duration::from_secs(3600);
/// Quiet hours end on the minute and the composer promised that minute: a
/// second's lag, for one indexed look-up when nothing is due.
const RELEASE_EVERY: Duration = Duration::from_secs(1);
/// How often due scheduled messages are looked for: one indexed read that
/// nearly always finds nothing, and a message goes out within a second of
/// its time on whatever clock the server reads (tests move theirs).
const SCHEDULED_EVERY: Duration = Duration::from_secs(1);

/// The running jobs loop of this node.
pub struct Jobs {
    leading: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Jobs {
    /// Whether this node runs the cluster's background jobs now.
    pub fn leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Stops the loop (and lets go of the lead with it).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts this node's share: leading when it can, waiting when it cannot.
pub fn spawn(state: AppState) -> Jobs {
    let (tell, leading) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            match state.store.lead(LEAD).await {
                Ok(Some(mut lead)) => {
                    tracing::info!("this node runs the background jobs");
                    tell.send_replace(true);
                    run(&state, &mut lead).await;
                    tell.send_replace(false);
                    tracing::warn!("this node lost the lead of the background jobs");
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot ask for the lead of the background jobs"),
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
    Jobs { leading, task }
}

/// The jobs, for as long as the lead holds.
async fn run(state: &AppState, lead: &mut storage::Leadership) {
    // Changes made while no node led (an import, a crash between a change and
    // its reconciliation).
    match state.store.orgs().await {
        Ok(orgs) => {
            for org in orgs {
                state.reconcile(org.id).await;
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot list the schools to reconcile"),
    }
    crate::data_rights_api::resume_exports(state).await;
    let mut polls = tokio::time::interval(POLLS_EVERY);
    let mut purge = tokio::time::interval(PURGE_EVERY);
    let mut retention = tokio::time::interval(RETENTION_EVERY);
    let mut collect = tokio::time::interval(COLLECT_EVERY);
    let mut check = tokio::time::interval(CHECK_EVERY);
    let mut release = tokio::time::interval(RELEASE_EVERY);
    let mut scheduled = tokio::time::interval(SCHEDULED_EVERY);
    // A slow round (a burst of due messages) is not followed by a burst of
    // catching-up rounds.
    scheduled.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = polls.tick() => state.messenger.poll_results.log_left_over(state.now()).await,
            _ = purge.tick() => state.purge_deleted_chats().await,
            _ = retention.tick() => crate::data_rights_api::run_retention(state).await,
            _ = scheduled.tick() => crate::messenger::scheduled::send_due(state).await,
            _ = collect.tick() => {
                if let Err(e) = state.files.collect(&state.store, state.now(), PENDING_GRACE, BLOB_GRACE).await {
                    tracing::warn!(code = e.code, "file garbage collection failed");
                }
            }
            _ = release.tick() => {
                if let Some(notifier) = state.messenger.notifier() {
                    notifier.release_held().await;
                }
            }
            _ = check.tick() => {
                if !lead.holds().await {
                    return;
                }
            }
        }
    }
}
