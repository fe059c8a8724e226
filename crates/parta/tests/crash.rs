//! The messenger's durability promise end to end (DESIGN §7, docs/protocol.md
//! "Acknowledged means committed", "Retries never duplicate"): the real
//! `parta demo` is killed with SIGKILL while WebSocket senders are sending,
//! then restarted on the same data directory.
//!
//! The load has W1's shape (BENCHMARKS.md): one chat of 30 connected members,
//! 10 of them sending with a window of unacknowledged sends, the others only
//! receiving and checking that events come in order without gaps.
//!
//! Always on SQLite in a temporary data directory (the chat is seeded into its
//! `parta.db` by `loadgen::seed`), also when `PARTA_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Acks, Sent, WAIT, free_port, history, send_until_the_server_dies, start_demo as start};
use loadgen::client::{Socket, send_frame};
use loadgen::seed::{self, Member};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENDERS: usize = 10;
const MEMBERS: usize = 30;
const SENDING_BEFORE_KILL: Duration = Duration::from_millis(1500);

/// Every message's `client_id`, read as its author (only the author sees it):
/// client_id → how many times, and (seq, id) of one of them.
async fn stored(url: &str, members: &[Member]) -> (HashMap<String, usize>, HashMap<String, (i64, i64)>, Vec<i64>, i64) {
    let (mut counts, mut found) = (HashMap::new(), HashMap::new());
    let mut seqs = Vec::new();
    let mut last = 0;
    for (k, member) in members.iter().enumerate() {
        let (messages, last_seq) = history(url, member).await;
        if k == 0 {
            seqs = messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
            last = last_seq;
        }
        for m in &messages {
            if m["author"]["person"].as_i64() == Some(member.person) {
                let client_id = m["client_id"].as_str().expect("the author sees the client id").to_string();
                *counts.entry(client_id.clone()).or_insert(0) += 1;
                found.insert(client_id, (m["seq"].as_i64().unwrap(), m["id"].as_i64().unwrap()));
            }
        }
    }
    (counts, found, seqs, last)
}

/// Reads a member's events until the server goes away, checking that the
/// chat's messages arrive in order, each once, without gaps; returns the last
/// seq received.
async fn receive_until_the_server_dies(mut socket: Socket) -> i64 {
    let mut last = 0;
    loop {
        match socket.next_json(WAIT).await {
            Ok(Some(frame)) if frame["type"] == "event" => {
                let seq = frame["seq"].as_i64().unwrap();
                assert_eq!(seq, last + 1, "events out of order or with a gap: {frame}");
                last = seq;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return last,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_9_under_w1_every_acknowledged_message_exists_exactly_once_in_order_and_retries_do_not_duplicate()
{
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), port).await;
    let seeded = seed::seed(dir.path(), MEMBERS).await.unwrap();
    let senders: Vec<Member> = seeded.members[..SENDERS].to_vec();
    let mut listeners = Vec::new();
    for member in &seeded.members[SENDERS..] {
        let mut socket = Socket::open(&url, &member.cookie(), &[(member.chat, 0)]).await.unwrap();
        socket.until("ready", WAIT).await.unwrap();
        listeners.push(tokio::spawn(receive_until_the_server_dies(socket)));
    }

    let sent = Arc::new(Mutex::new(Vec::new()));
    let acks: Acks = Arc::default();
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let (url, m, sent, acks) = (url.clone(), m.clone(), sent.clone(), acks.clone());
            tokio::spawn(send_until_the_server_dies(url, m, k, sent, acks))
        })
        .collect();
    tokio::time::sleep(SENDING_BEFORE_KILL).await;
    server.kill();
    for t in tasks {
        tokio::time::timeout(WAIT, t).await.expect("a sender kept going after the kill").unwrap();
    }
    let mut received = Vec::new();
    for l in listeners {
        received.push(tokio::time::timeout(WAIT, l).await.expect("a listener kept going after the kill").unwrap());
    }
    let sent = sent.lock().unwrap().clone();
    let acked = acks.lock().unwrap().clone();
    assert!(acked.len() >= 20, "too few acks before the kill to prove anything: {}", acked.len());
    assert!(sent.len() > acked.len(), "some sends must have been in flight at the kill");

    let mut server = start(dir.path(), port).await;

    // (a) Every acknowledged message is there once, with the seq its ack
    // gave; the chat's seqs are 1..=n without gaps.
    let (counts, found, seqs, last_seq) = stored(&url, &senders).await;
    assert_eq!(seqs, (1..=last_seq).collect::<Vec<_>>(), "seqs must run 1..=last_seq without gaps");
    assert_eq!(found.len(), seqs.len(), "every message is one of the senders'");
    assert!(counts.values().all(|&c| c == 1), "a client id stored twice: {counts:?}");
    for (client_id, ack) in &acked {
        assert_eq!(found.get(client_id), Some(ack), "acknowledged {client_id} must be stored as acknowledged");
    }
    let sent_ids: HashSet<&str> = sent.iter().map(|s| s.client_id.as_str()).collect();
    assert!(found.keys().all(|c| sent_ids.contains(c.as_str())));
    // An event goes out only after its commit: whatever a member received
    // survived the kill.
    for &last_received in &received {
        assert!(last_received <= last_seq, "an event for seq {last_received} was delivered but not stored");
    }
    assert!(received.iter().any(|&r| r > 0), "the listeners received nothing before the kill");
    eprintln!(
        "{} sent, {} acknowledged before the kill, {} stored ({} committed without their ack reaching the sender)",
        sent.len(),
        acked.len(),
        found.len(),
        found.len() - acked.len()
    );

    // (b) Re-sending everything (acknowledged or in flight at the kill) with
    // the same client ids: acknowledged ones come back as duplicates of the
    // same message; in-flight ones that had committed too; the rest are new.
    for (k, member) in senders.iter().enumerate() {
        let mine: Vec<&Sent> = sent.iter().filter(|s| s.sender == k).collect();
        let mut socket = Socket::open(&url, &member.cookie(), &[(member.chat, last_seq)]).await.unwrap();
        socket.until("ready", WAIT).await.unwrap();
        for s in &mine {
            socket.send_text(send_frame(member.chat, &s.client_id, &s.text)).await.unwrap();
        }
        let mut answered = HashMap::new();
        while answered.len() < mine.len() {
            let frame = socket.next_json(WAIT).await.unwrap().expect("the socket closed during the retries");
            match frame["type"].as_str() {
                Some("ack") => {
                    let key = frame["client_id"].as_str().unwrap().to_string();
                    answered.insert(key, frame);
                }
                Some("error") => panic!("a retry was refused: {frame}"),
                _ => {}
            }
        }
        for s in &mine {
            let ack = &answered[&s.client_id];
            let answer = (ack["seq"].as_i64().unwrap(), ack["message_id"].as_i64().unwrap());
            match found.get(&s.client_id) {
                Some(stored) => {
                    assert_eq!(ack["duplicate"], true, "a stored message retried must be a duplicate: {ack}");
                    assert_eq!(&answer, stored, "the retry must return the stored message");
                }
                None => assert_eq!(ack["duplicate"], false, "a message never stored is new: {ack}"),
            }
            if let Some(first) = acked.get(&s.client_id) {
                assert_eq!(&answer, first, "an acknowledged message must keep its seq and id");
            }
        }
    }
    let (counts, found, seqs, last_seq) = stored(&url, &senders).await;
    assert_eq!(seqs, (1..=last_seq).collect::<Vec<_>>());
    assert_eq!(found.len(), sent_ids.len(), "every sent client id is stored, once");
    assert!(counts.values().all(|&c| c == 1), "no message exists twice: {counts:?}");

    server.kill();
    eprintln!("took {:?}", started.elapsed());
}
