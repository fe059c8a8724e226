//! PostgreSQL out of reach: requests get a clear 503 with a stable code,
//! sockets stay up, nothing is acknowledged that was not stored, and the node
//! serves again when the database is back. The node reaches PostgreSQL through
//! a proxy the test cuts (PostgreSQL only: an SQLite file does not go away).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::linked;
use common::{NodeOptions, error_code, spawn_app, spawn_node};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A TCP proxy to PostgreSQL that can be cut (every connection dropped,
/// new ones refused) and restored.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<tokio::sync::Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        let (is_cut, tasks) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                tasks.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Proxy { port, cut, links }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.links.lock().await.abort_all();
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// `url` with its host and port replaced by the proxy's.
fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, host) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    let host = if host.contains(':') { host.to_string() } else { format!("{host}:5432") };
    let user = if user.is_empty() { String::new() } else { format!("{user}@") };
    (format!("{scheme}://{user}127.0.0.1:{port}/{path}"), host)
}

#[tokio::test]
async fn with_the_database_out_of_reach_requests_get_503_sockets_stay_and_nothing_unstored_is_acknowledged() {
    let app = spawn_app(false).await;
    if app.state.store.backend() != "postgresql" {
        eprintln!("skipped: needs PARTA_TEST_POSTGRES");
        app.finish().await;
        return;
    }
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let upstream = through(&app.db.url, 0).1;
    let proxy = Proxy::start(upstream).await;
    let (url, _) = through(&app.db.url, proxy.port);
    let node = spawn_node(&app, NodeOptions { database_url: Some(url), ..NodeOptions::default() }).await;
    let get = |path: &str| {
        let request = reqwest::Client::new().get(format!("{}{path}", node.base)).header("cookie", &teacher.cookie);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(get("/api/messenger/chats").await.status(), StatusCode::OK);
    let mut ws = teacher.socket_at(&node.base, json!([])).await;
    ws.until("ready").await;

    proxy.cut().await;
    let (status, code) = error_code(get("/api/messenger/chats").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"));
    let ready = reqwest::get(format!("{}/readyz", node.base)).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json::<Value>().await.unwrap()["database"], "unreachable");
    assert_eq!(reqwest::get(format!("{}/healthz", node.base)).await.unwrap().status(), StatusCode::OK, "alive");
    ws.send(json!({"type": "send", "chat": chat, "client_id": "down-1", "text": "пока база недоступна"})).await;
    let refused = ws.until_within("error", Duration::from_secs(15)).await;
    assert_eq!(refused["client_id"], "down-1", "refused, not acknowledged: {refused}");

    proxy.restore();
    let mut ready = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        ready = reqwest::get(format!("{}/readyz", node.base)).await.unwrap().status();
        if ready == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, StatusCode::OK, "ready again once the database is back");
    ws.send(json!({"type": "send", "chat": chat, "client_id": "down-1", "text": "пока база недоступна"})).await;
    let ack = ws.until("ack").await;
    assert_eq!(
        (ack["client_id"].as_str(), ack["duplicate"].as_bool()),
        (Some("down-1"), Some(false)),
        "the same socket"
    );
    app.finish().await;
}
