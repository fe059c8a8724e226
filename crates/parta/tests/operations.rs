//! What the IT person's monitoring reads: Prometheus metrics on their own
//! port (and not on the public one), and JSON logs in which every line of a
//! request carries its id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::free_port;
use loadgen::client::{Socket, send_frame};
use std::process::Stdio;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn get(url: &str, request_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_commits_on_their_own_port_and_json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("parta.log")).unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{port}");
    let data = dir.path().join("data");
    let mut server = common::start(
        common::parta()
            .args(["demo", "--data", data.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
            .env("PARTA_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            .env("PARTA_LOG_FORMAT", "json")
            .env("PARTA_LOG", "info,tower_http=debug")
            .stderr(Stdio::from(log)),
        port,
    )
    .await;

    let seeded = loadgen::seed::seed(&data, 2).await.unwrap();
    let member = &seeded.members[0];
    let mut socket = Socket::open(&url, &member.cookie(), &[(member.chat, 0)]).await.unwrap();
    socket.until("ready", WAIT).await.unwrap();
    for n in 0..3 {
        socket.send_text(send_frame(member.chat, &format!("metrics-{n}"), "раз, два, три")).await.unwrap();
        socket.until("ack", WAIT).await.unwrap();
    }

    let metrics = get(&format!("http://127.0.0.1:{metrics_port}/metrics"), None).await;
    assert!(metrics.status().is_success());
    let text = metrics.text().await.unwrap();
    for line in ["parta_messages_committed_total 3", "parta_websockets_open 1", "parta_sfu_calls 0"] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing from:\n{text}");
    }
    for name in [
        "parta_commit_duration_seconds_bucket",
        "parta_commit_batch_size_bucket",
        "parta_slow_consumers_dropped_total",
        "parta_resyncs_total",
        "parta_sms_failed_total{reason=\"unavailable\"}",
        "parta_provisioning_runs_total",
        "parta_file_bytes_stored_total",
        "parta_sfu_packets_lost_total",
        "parta_sfu_packets_dropped_total",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    let public = get(&format!("{url}/metrics"), None).await.text().await.unwrap();
    assert!(!public.contains("parta_messages_committed_total"), "metrics must not be on the public port");

    let answered = get(&format!("{url}/healthz"), Some("req-ops-42")).await;
    assert_eq!(answered.headers()["x-request-id"], "req-ops-42", "the id is answered back");
    let minted = get(&format!("{url}/healthz"), None).await;
    let minted = minted.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(minted.len(), 36, "a request without an id gets a UUID: {minted}");

    server.kill();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("parta.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let of_request: Vec<&serde_json::Value> = lines.iter().filter(|l| l["spans"][0]["id"] == "req-ops-42").collect();
    assert!(of_request.len() >= 2, "the request's start and end lines carry its id: {lines:#?}");
    assert!(of_request.iter().all(|l| l["spans"][0]["path"] == "/healthz"));
    assert!(lines.iter().any(|l| l["spans"][0]["id"] == minted.as_str()), "a minted id is logged too");
}
