//! Two real `parta` nodes on one database and a NATS server of the test's
//! own: node B is killed with SIGKILL while people on it are sending; their
//! clients move to node A. Every acknowledged message then reaches every
//! member exactly once: the one who stayed on A all along, and the one whose
//! socket was on B. (SQLite shared by two processes on one machine: the
//! same code paths as PostgreSQL for the bus, which is what is under test.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Acks, WAIT, flood_free_config, free_port, history, parta, send_until_the_server_dies, start, start_demo_with,
};
use loadgen::client::Socket;
use loadgen::seed::{self, Member};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::nats::NatsServer;

const SENDERS: usize = 3;

/// Events of the member's chat as they arrive: seq → how many times.
type Seen = Arc<Mutex<HashMap<i64, usize>>>;

/// Records every event the socket gets until it closes or `until` is seen.
async fn listen(mut socket: Socket, seen: Seen, until: Arc<Mutex<Option<i64>>>) -> i64 {
    let mut position = 0;
    loop {
        let done = until.lock().unwrap().is_some_and(|last| position >= last);
        if done {
            return position;
        }
        match socket.next_json(Duration::from_millis(500)).await {
            Ok(Some(frame)) if frame["type"] == "event" => {
                let seq = frame["seq"].as_i64().unwrap();
                *seen.lock().unwrap().entry(seq).or_insert(0) += 1;
                position = position.max(seq);
            }
            Ok(Some(_)) => {}
            Ok(None) if socket_closed(&mut socket).await => return position,
            Ok(None) => {}
            Err(_) => return position,
        }
    }
}

/// A member whose messenger stays on `url`: when its socket closes (a busy
/// machine's slow reader is cut off by the server), it reconnects from where
/// it was, as the web client does.
async fn stay(url: String, cookie: String, chat: i64, seen: Seen, until: Arc<Mutex<Option<i64>>>) -> i64 {
    let mut position = 0;
    loop {
        let socket = Socket::open(&url, &cookie, &[(chat, position)]).await.unwrap();
        position = position.max(listen(socket, seen.clone(), until.clone()).await);
        if until.lock().unwrap().is_some_and(|last| position >= last) {
            return position;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn socket_closed(socket: &mut Socket) -> bool {
    socket.send_text("{\"type\":\"ping\"}".into()).await.is_err()
}

async fn serve_node(dir: &Path, port: u16, nats: &str) -> common::Server {
    let config = flood_free_config(dir);
    let args = ["serve", "--data", dir.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")];
    start(parta().args(args).args(["--config", config.to_str().unwrap()]).env("PARTA_NATS_URL", nats), port).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_node_is_killed_every_acknowledged_message_reaches_every_member_once() {
    let Some(nats) = NatsServer::start("cluster kill -9").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    let (url_a, url_b) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let _node_a = start_demo_with(dir.path(), port_a, &[("PARTA_NATS_URL", &nats.url())]).await;
    let seeded = seed::seed(dir.path(), SENDERS + 2).await.unwrap();
    let mut node_b = serve_node(dir.path(), port_b, &nats.url()).await;
    let senders: Vec<Member> = seeded.members[..SENDERS].to_vec();
    let (stayer, mover) = (seeded.members[SENDERS].clone(), seeded.members[SENDERS + 1].clone());
    let chat = stayer.chat;

    let until: Arc<Mutex<Option<i64>>> = Arc::default();
    let (on_a, on_b): (Seen, Seen) = (Arc::default(), Arc::default());
    let mut socket_b = Socket::open(&url_b, &mover.cookie(), &[(chat, 0)]).await.unwrap();
    socket_b.until("ready", WAIT).await.unwrap();
    let stays = tokio::spawn(stay(url_a.clone(), stayer.cookie(), chat, on_a.clone(), until.clone()));
    let moves = tokio::spawn(listen(socket_b, on_b.clone(), until.clone()));

    let acks: Acks = Arc::default();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(k, m)| tokio::spawn(send_until_the_server_dies(url_b.clone(), m.clone(), k, sent.clone(), acks.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    node_b.kill();
    for t in tasks {
        tokio::time::timeout(WAIT, t).await.expect("a sender kept going after the kill").unwrap();
    }
    let position = tokio::time::timeout(WAIT, moves).await.unwrap().unwrap();
    let acked = acks.lock().unwrap().clone();
    assert!(acked.len() >= 10, "too few acks before the kill to prove anything: {}", acked.len());

    // The mover's client reconnects to node A from where it was.
    let (_, last_seq) = history(&url_a, &stayer).await;
    *until.lock().unwrap() = Some(last_seq);
    let socket = Socket::open(&url_a, &mover.cookie(), &[(chat, position)]).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), listen(socket, on_b.clone(), until.clone())).await.unwrap();
    // The stayer had its socket on A all along: what B committed and never
    // published reaches it when A notices B is gone.
    tokio::time::timeout(Duration::from_secs(30), stays).await.expect("the stayer got everything").unwrap();

    for (who, seen) in [("stayer on A", &on_a), ("mover from B", &on_b)] {
        let seen = seen.lock().unwrap();
        for (client_id, (seq, _)) in &acked {
            assert_eq!(seen.get(seq), Some(&1), "{who}: acknowledged {client_id} (seq {seq}) exactly once");
        }
        assert!(seen.values().all(|n| *n == 1), "{who}: an event came twice: {seen:?}");
        assert_eq!(seen.len() as i64, last_seq, "{who}: every committed event");
    }
    eprintln!("{} acknowledged on B before its kill, {last_seq} committed; both members got each once", acked.len());
}
