//! `parta backup` and `parta restore` end to end: a backup taken while
//! senders keep writing restores, into a fresh data directory, every message
//! acknowledged before the backup began, and the attachments; a restore
//! refuses a directory that is not empty.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{free_port, history, run, start_demo};
use loadgen::client::{Socket, send_frame};
use loadgen::seed::{self, Member};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SENDERS: usize = 3;
const WINDOW: usize = 4;
const WAIT: Duration = Duration::from_secs(10);

type Acked = Arc<Mutex<HashSet<String>>>;

/// Keeps `WINDOW` sends in flight until `stop`, recording each ack.
async fn send_until_stopped(url: String, member: Member, k: usize, acked: Acked, stop: Arc<AtomicBool>) {
    let mut socket = Socket::open(&url, &member.cookie(), &[(member.chat, 0)]).await.unwrap();
    socket.until("ready", WAIT).await.unwrap();
    let (mut n, mut in_flight) = (0, 0);
    loop {
        while in_flight < WINDOW && !stop.load(Ordering::Relaxed) {
            socket
                .send_text(send_frame(member.chat, &format!("backup-{k}-{n}"), &format!("сообщение {n}")))
                .await
                .unwrap();
            n += 1;
            in_flight += 1;
        }
        if in_flight == 0 {
            return;
        }
        let frame = socket.next_json(WAIT).await.unwrap().expect("the server closed the socket");
        match frame["type"].as_str() {
            Some("ack") => {
                acked.lock().unwrap().insert(frame["client_id"].as_str().unwrap().to_string());
                in_flight -= 1;
            }
            Some("error") => panic!("a send was refused: {frame}"),
            _ => {}
        }
    }
}

/// Uploads `bytes` to the member's chat and sends them in a message; the
/// attachment's id.
async fn send_attachment(url: &str, member: &Member, bytes: &'static [u8]) -> i64 {
    let uploaded: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/messenger/chats/{}/files?name=plan.txt", member.chat))
        .header("cookie", member.cookie())
        .body(bytes)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = uploaded["id"].as_i64().unwrap_or_else(|| panic!("upload failed: {uploaded}"));
    let mut socket = Socket::open(url, &member.cookie(), &[(member.chat, 0)]).await.unwrap();
    socket.until("ready", WAIT).await.unwrap();
    let frame =
        json!({"type": "send", "chat": member.chat, "client_id": "with-a-file", "text": "план", "attachments": [id]});
    socket.send_json(&frame).await.unwrap();
    socket.until("ack", WAIT).await.unwrap();
    id
}

async fn download(url: &str, member: &Member, file: i64) -> Vec<u8> {
    let res = reqwest::Client::new()
        .get(format!("{url}/api/messenger/files/{file}"))
        .header("cookie", member.cookie())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "download: {}", res.status());
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_message_acknowledged_before_it_began() {
    let live = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start_demo(live.path(), port).await;
    let seeded = seed::seed(live.path(), SENDERS + 1).await.unwrap();
    const PLAN: &[u8] = "План поездки: сбор в 8:00 у школы.\n".as_bytes();
    let file = send_attachment(&url, &seeded.members[SENDERS], PLAN).await;

    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = seeded.members[..SENDERS]
        .iter()
        .enumerate()
        .map(|(k, m)| tokio::spawn(send_until_stopped(url.clone(), m.clone(), k, acked.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before_backup = acked.lock().unwrap().clone();
    assert!(before_backup.len() >= 20, "too few acks to prove anything: {}", before_backup.len());
    let archive = live.path().join("..").join(format!("parta-backup-{port}.tar"));
    let (data, to) = (live.path().to_str().unwrap().to_string(), archive.to_str().unwrap().to_string());
    let backup = tokio::task::spawn_blocking(move || run(&["backup", "--to", &to, "--data", &data])).await.unwrap();
    let during = acked.lock().unwrap().len() - before_backup.len();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        tokio::time::timeout(WAIT, sender).await.unwrap().unwrap();
    }
    let stdout = String::from_utf8_lossy(&backup.stdout);
    assert!(backup.status.success(), "backup failed: {stdout}{}", String::from_utf8_lossy(&backup.stderr));
    assert!(stdout.contains("backup written to"), "{stdout}");
    assert!(during > 0, "the senders kept writing while the backup ran");
    server.kill();

    let fresh = tempfile::tempdir().unwrap();
    let restored = fresh.path().join("data");
    let (from, into) = (archive.to_str().unwrap(), restored.to_str().unwrap());
    let restore = run(&["restore", "--from", from, "--data", into]);
    assert!(restore.status.success(), "restore failed: {}", String::from_utf8_lossy(&restore.stderr));
    let again = run(&["restore", "--from", from, "--data", into]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"), "{again:?}");

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _restored_server = start_demo(&restored, port).await;
    let mut found = HashSet::new();
    for member in &seeded.members[..SENDERS] {
        let (messages, _) = history(&url, member).await;
        let mine = messages.iter().filter(|m| m["author"]["person"].as_i64() == Some(member.person));
        found.extend(mine.filter_map(|m| m["client_id"].as_str().map(str::to_string)));
    }
    let lost: Vec<&String> = before_backup.iter().filter(|c| !found.contains(*c)).collect();
    assert!(lost.is_empty(), "acknowledged before the backup but not restored: {lost:?}");
    assert_eq!(download(&url, &seeded.members[0], file).await, PLAN, "the attachment is restored");
    eprintln!("{} acknowledged before the backup, {during} during it, {} restored", before_backup.len(), found.len());
    std::fs::remove_file(archive).unwrap();
}

#[test]
fn on_postgresql_the_backup_holds_the_files_and_explains_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("files/ab/cd")).unwrap();
    std::fs::write(data.join("files/ab/cd/abcd"), b"bytes").unwrap();
    let archive = dir.path().join("backup.tar");
    let out = common::parta()
        .args(["backup", "--to", archive.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .env("PARTA_DATABASE_URL", "postgres://parta:secret@127.0.0.1:1/parta")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("pg_dump --format=custom"), "{stdout}");
    assert!(!stdout.contains("secret"), "the password stays out of the terminal: {stdout}");
    let mut names = Vec::new();
    for entry in tar::Archive::new(std::fs::File::open(&archive).unwrap()).entries().unwrap() {
        names.push(entry.unwrap().path().unwrap().display().to_string());
    }
    assert_eq!(names, ["manifest.json", "files/ab/cd/abcd"]);
}
