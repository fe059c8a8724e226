//! What Parta counts for the IT person's monitoring, in Prometheus's text
//! format, on a listener of its own (`metrics_listen`), never the public one.
//!
//! Code records through the `metrics` facade. Until [`install`] runs (it
//! does only when `metrics_listen` is set) every handle is a no-op, so an
//! unmonitored server pays nothing. Hot paths (the group-commit writer, the
//! SFU's forwarding loop) take their handles once and then pay an atomic add
//! per batch or packet. docs/operations.md lists every metric with what to
//! alert on; keep it in step with [`describe`].

use axum::Router;
use axum::http::header;
use axum::routing::get;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
pub use metrics_exporter_prometheus::PrometheusHandle;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
use std::future::Future;
use std::time::Duration;

/// WebSocket connections open on this node (gauge).
pub const WEBSOCKETS_OPEN: &str = "parta_websockets_open";
/// Messages committed by the group-commit writer (counter; `rate()` is messages per second).
pub const MESSAGES_COMMITTED: &str = "parta_messages_committed_total";
/// One batch's transaction, fsync included (histogram, seconds).
pub const COMMIT_SECONDS: &str = "parta_commit_duration_seconds";
/// Messages per committed batch (histogram).
pub const COMMIT_BATCH: &str = "parta_commit_batch_size";
/// Batches whose transaction failed: every send in them was refused (counter).
pub const COMMIT_FAILURES: &str = "parta_commit_failures_total";
/// Connections dropped because their queue was full (counter).
pub const SLOW_CONSUMERS: &str = "parta_slow_consumers_dropped_total";
/// Chats replayed to a connection that resumed or saw a gap (counter).
pub const REPLAYS: &str = "parta_replays_total";
/// Chats too far behind to replay: the client reloads them (counter).
pub const RESYNCS: &str = "parta_resyncs_total";
/// SMS codes handed to the provider (counter).
pub const SMS_SENT: &str = "parta_sms_sent_total";
/// SMS the provider refused or could not take, by `reason` (counter).
pub const SMS_FAILED: &str = "parta_sms_failed_total";
/// Web Push notifications a push service accepted (counter).
pub const PUSHES_SENT: &str = "parta_pushes_sent_total";
/// Web Push notifications refused or still failing after the retries (counter).
pub const PUSHES_FAILED: &str = "parta_pushes_failed_total";
/// Reconciliations of automatic chats, by `scope` (`org` or `people`) and `result` (counter).
pub const PROVISIONING_RUNS: &str = "parta_provisioning_runs_total";
/// How long one reconciliation took (histogram, seconds).
pub const PROVISIONING_SECONDS: &str = "parta_provisioning_duration_seconds";
/// Bytes of attachments stored, thumbnails included (counter).
pub const FILE_BYTES_STORED: &str = "parta_file_bytes_stored_total";

const SECONDS_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const PROVISIONING_BUCKETS: &[f64] = &[0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];
/// Powers of two up to the writer's largest batch (512).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Histogram samples are folded into their buckets at each scrape and at
/// least this often, so a server nobody scrapes does not keep them all.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the process-wide recorder. Call once, before the server state
/// (whose writer and SFU take their handles when they start) is built.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.into()), SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(COMMIT_BATCH.into()), BATCH_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(PROVISIONING_SECONDS.into()), PROVISIONING_BUCKETS)?
        .install_recorder()?;
    describe();
    Ok(handle)
}

fn describe() {
    describe_gauge!(WEBSOCKETS_OPEN, "WebSocket connections open on this node.");
    describe_counter!(MESSAGES_COMMITTED, "Messages committed (acknowledged) by this node.");
    describe_histogram!(COMMIT_SECONDS, Unit::Seconds, "Time to commit one batch of messages, fsync included.");
    describe_histogram!(COMMIT_BATCH, Unit::Count, "Messages per committed batch.");
    describe_counter!(COMMIT_FAILURES, "Batches whose transaction failed; their sends were refused.");
    describe_counter!(SLOW_CONSUMERS, "Connections dropped because they did not keep up.");
    describe_counter!(REPLAYS, "Chats replayed to a connection that resumed or saw a gap.");
    describe_counter!(RESYNCS, "Chats too far behind to replay, reloaded by the client.");
    describe_counter!(SMS_SENT, "SMS codes accepted by the provider.");
    describe_counter!(SMS_FAILED, "SMS codes the provider refused (rejected) or could not take (unavailable).");
    describe_counter!(PUSHES_SENT, "Web Push notifications accepted by the browsers' push services.");
    describe_counter!(PUSHES_FAILED, "Web Push notifications refused, or failing after the retries.");
    describe_counter!(PROVISIONING_RUNS, "Reconciliations of the automatic chats.");
    describe_histogram!(PROVISIONING_SECONDS, Unit::Seconds, "Time one reconciliation took.");
    describe_counter!(FILE_BYTES_STORED, Unit::Bytes, "Bytes of attachments and thumbnails stored.");
    describe_gauge!(sfu::metrics::CALLS, "Calls with participants on this node's SFU.");
    describe_gauge!(sfu::metrics::PARTICIPANTS, "Participants connected to this node's SFU.");
    describe_counter!(sfu::metrics::PACKETS_FORWARDED, "RTP packets forwarded to subscribers.");
    describe_counter!(sfu::metrics::PACKETS_LOST, "RTP packets that never arrived from publishers.");
    describe_counter!(sfu::metrics::PACKETS_DROPPED, "Datagrams the SFU's socket refused to send.");
    // Present from the first scrape, so a rate or an alert has a zero to start from.
    for name in [MESSAGES_COMMITTED, COMMIT_FAILURES, SLOW_CONSUMERS, REPLAYS, RESYNCS, SMS_SENT, FILE_BYTES_STORED] {
        metrics::counter!(name).absolute(0);
    }
    for reason in ["rejected", "unavailable"] {
        metrics::counter!(SMS_FAILED, "reason" => reason).absolute(0);
    }
    for scope in ["org", "people"] {
        for result in ["ok", "error"] {
            metrics::counter!(PROVISIONING_RUNS, "scope" => scope, "result" => result).absolute(0);
        }
    }
    for name in [sfu::metrics::PACKETS_FORWARDED, sfu::metrics::PACKETS_LOST, sfu::metrics::PACKETS_DROPPED] {
        metrics::counter!(name).absolute(0);
    }
    for name in [WEBSOCKETS_OPEN, sfu::metrics::CALLS, sfu::metrics::PARTICIPANTS] {
        metrics::gauge!(name).set(0.0);
    }
}

/// `GET /metrics` and nothing else.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()) }
        }),
    )
}

/// Serves [`router`] on `listener` until `shutdown`, and keeps the recorder
/// trimmed meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let upkeep = handle.clone();
    let trimming = tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let served = axum::serve(listener, router(handle)).with_graceful_shutdown(shutdown).await;
    trimming.abort();
    served
}
