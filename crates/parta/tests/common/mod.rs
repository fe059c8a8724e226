//! The real `parta` binary, run by the tests of this crate: a server started
//! on a free loopback port and killed when dropped, and the commands around it.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use loadgen::client::{Socket, send_frame};
use loadgen::seed::Member;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Unacknowledged sends per sender: some are always in flight at a kill.
pub const WINDOW: usize = 8;
pub const WAIT: Duration = Duration::from_secs(10);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `parta` with none of the developer's own `PARTA_*` settings.
pub fn parta() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parta"));
    command.env("PARTA_LOG", "warn");
    for (name, _) in std::env::vars() {
        if name.starts_with("PARTA_") && name != "PARTA_LOG" {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `parta ARGS` to the end.
pub fn run(args: &[&str]) -> Output {
    parta().args(args).stdin(Stdio::null()).output().unwrap()
}

/// A running server; killed (SIGKILL) when dropped, so a failing test leaves
/// no server behind.
pub struct Server(pub Child);

impl Server {
    pub fn kill(&mut self) {
        // std's kill is SIGKILL on Unix: no shutdown, no flush, no `bye`.
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `parta demo` on `dir`, listening on `port`; returns once `/healthz` answers.
/// The senders are scripts, faster than any person: flood control must not
/// refuse them (it is tested in the server's suites).
const UNLIMITED: &str = "[flood]\nmessages = { burst = 1000000, per_second = 1000000 }\n\
                         socket = { burst = 1000000, per_second = 1000000 }\n";

pub async fn start_demo(dir: &Path, port: u16) -> Server {
    start_demo_with(dir, port, &[]).await
}

/// `parta demo` with these environment variables (`PARTA_NATS_URL`…).
pub async fn start_demo_with(dir: &Path, port: u16, env: &[(&str, &str)]) -> Server {
    let config = flood_free_config(dir);
    let args = ["demo", "--data", dir.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")];
    start(parta().args(args).args(["--config", config.to_str().unwrap()]).envs(env.iter().copied()), port).await
}

/// A config file in `dir` without flood limits; its path.
pub fn flood_free_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("parta.toml");
    std::fs::write(&config, UNLIMITED).unwrap();
    config
}

/// Starts `command` (a server on `port`) and waits for `/healthz`.
pub async fn start(command: &mut Command, port: u16) -> Server {
    let server = Server(command.stdout(Stdio::null()).spawn().unwrap());
    loadgen::http::wait_healthy(&format!("http://127.0.0.1:{port}"), Duration::from_secs(30)).await.unwrap();
    server
}

/// The chat's whole history as `member` sees it, oldest first, read in pages
/// of 100 backwards from the newest; and the page's `last_seq`.
pub async fn history(url: &str, member: &Member) -> (Vec<Value>, i64) {
    let mut messages: Vec<Value> = Vec::new();
    let mut before: Option<i64> = None;
    let mut last_seq = None;
    for _ in 0..10_000 {
        let path = match before {
            Some(seq) => format!("/api/messenger/chats/{}/messages?before={seq}&limit=100", member.chat),
            None => format!("/api/messenger/chats/{}/messages?limit=100", member.chat),
        };
        let page = loadgen::http::get_json(url, &path, &member.cookie()).await.unwrap();
        last_seq.get_or_insert(page["last_seq"].as_i64().unwrap());
        let mut older = page["messages"].as_array().unwrap().clone();
        before = older.first().map(|m| m["seq"].as_i64().unwrap());
        older.append(&mut messages);
        messages = older;
        if page["has_more"] != true || before.is_none() {
            return (messages, last_seq.unwrap());
        }
    }
    panic!("the history did not end");
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub sender: usize,
    pub client_id: String,
    pub text: String,
}

/// (seq, message_id) per acknowledged client id.
pub type Acks = Arc<Mutex<HashMap<String, (i64, i64)>>>;

/// Sends with up to `WINDOW` unacknowledged until the server goes away (at
/// most 10 s). Every send is recorded before it is written, every ack when it
/// arrives. Each ack is followed by a new send, so the last sends recorded are
/// never acknowledged: some were on the way when the server died.
pub async fn send_until_the_server_dies(
    url: String,
    member: Member,
    k: usize,
    sent: Arc<Mutex<Vec<Sent>>>,
    acks: Acks,
) {
    let mut socket = Socket::open(&url, &member.cookie(), &[(member.chat, 0)]).await.unwrap();
    socket.until("ready", WAIT).await.unwrap();
    let deadline = Instant::now() + WAIT;
    let (mut n, mut in_flight) = (0, 0);
    while Instant::now() < deadline {
        while in_flight < WINDOW {
            let client_id = format!("crash-{k}-{n}");
            let text = format!("сообщение {n} от отправителя {k}");
            sent.lock().unwrap().push(Sent { sender: k, client_id: client_id.clone(), text: text.clone() });
            if socket.send_text(send_frame(member.chat, &client_id, &text)).await.is_err() {
                return;
            }
            n += 1;
            in_flight += 1;
        }
        match socket.next_json(WAIT).await {
            Ok(Some(frame)) if frame["type"] == "ack" => {
                let (seq, id) = (frame["seq"].as_i64().unwrap(), frame["message_id"].as_i64().unwrap());
                acks.lock().unwrap().insert(frame["client_id"].as_str().unwrap().to_string(), (seq, id));
                in_flight -= 1;
            }
            Ok(Some(frame)) if frame["type"] == "error" => panic!("a send was refused: {frame}"),
            Ok(Some(_)) => {}
            // The server is gone.
            Ok(None) | Err(_) => return,
        }
    }
}
