//! The server test harness: the real server on a random port, a fresh database
//! (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`), and a clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod chat;
pub mod push;

use reqwest::StatusCode;
use roster::import::{Batch, Mode, Org, Part};
use roster::{OrgKind, Role};
use serde_json::{Value, json};
use server::AppState;
use server::auth::hash_password;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use testkit::fixture::{person, row, school};
use testkit::{TestDb, fresh_db};

pub const PASSWORD: &str = "secret-pass";

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub state: AppState,
    time: Arc<AtomicI64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    files: Option<NodeFiles>,
}

/// A node's file store from configuration, as `parta serve` opens it, and
/// the node's own data directory (its staging folder).
struct NodeFiles {
    config: blobs::BlobConfig,
    _data_dir: tempfile::TempDir,
}

impl NodeFiles {
    fn open(config: &blobs::BlobConfig, state: &mut AppState) -> NodeFiles {
        let data_dir = tempfile::tempdir().unwrap();
        let blobs = blobs::Blobs::open(config, data_dir.path()).unwrap();
        state.files = server::messenger::files::Files::new(blobs, server::messenger::files::DEFAULT_LIMIT);
        NodeFiles { config: config.clone(), _data_dir: data_dir }
    }
}

#[derive(Default)]
pub struct Options {
    pub demo: bool,
    pub sms: Option<Arc<dyn sms::SmsSender>>,
    /// Start the SFU (on loopback) with this configuration.
    pub calls: Option<server::messenger::calls::CallsConfig>,
    /// Flood limits; by default none a test would meet (the flood tests set
    /// their own).
    pub flood: Option<messenger::flood::Limits>,
    /// Timeouts and the per-address cap; the server's defaults by default.
    pub connections: Option<server::connections::ConnectionLimits>,
    /// One node of a cluster on these NATS servers (more nodes: [`spawn_node`]).
    pub nats: Option<cluster::Servers>,
    /// File bytes in this store (`[files]`); in memory by default.
    pub files: Option<blobs::BlobConfig>,
    /// Web Push (`[push]`); off by default. With `demo` a receiver on
    /// loopback may subscribe.
    pub push: Option<server::notify::PushConfig>,
}

/// Limits no test meets unless it is about them.
pub fn unlimited() -> messenger::flood::Limits {
    let rate = messenger::flood::Rate::new(1_000_000, 1_000_000.0);
    messenger::flood::Limits {
        messages: rate,
        reactions: rate,
        typing: rate,
        calls: rate,
        writes: rate,
        socket: rate,
        admin_factor: 1,
    }
}

/// The fixture school (passwords for the director and a parent) plus a second
/// school with its own administrator, where the same parent also has a child.
pub async fn spawn_app(demo: bool) -> TestApp {
    spawn_with(Options { demo, ..Options::default() }).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    let db = fresh_db().await;
    let mut batch = school();
    for p in &mut batch.people.rows {
        if ["director", "parent1"].contains(&p.data.login.as_ref().unwrap().as_str()) {
            p.data.password = Some(PASSWORD.into());
        }
    }
    db.store.apply_import(&batch, storage::Run::Apply, &hash_password).await.unwrap();
    let mut other_admin = person("b1", "Чужой", "Админ", "other.admin", &[Role::Administrator]);
    other_admin.data.roles = vec![(Role::Administrator, "s2".into())];
    other_admin.data.password = Some(PASSWORD.into());
    let mut parent_in_both = batch.people.rows.iter().find(|p| p.source_id == "g1").unwrap().clone();
    parent_in_both.data.roles.push((Role::Guardian, "s2".into()));
    parent_in_both.data.password = None;
    let other = Batch {
        orgs: Part {
            mode: Mode::Delta,
            rows: vec![row(
                "s2",
                "orgs.csv",
                3,
                Org { name: "Школа № 2".into(), kind: OrgKind::GeneralEducation, chats_enabled: true },
            )],
        },
        people: Part { mode: Mode::Delta, rows: vec![other_admin, parent_in_both] },
        ..Batch::default()
    };
    db.store.apply_import(&other, storage::Run::Apply, &hash_password).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sms = options.sms.unwrap_or_else(|| Arc::new(sms::LogSender::with_outbox(100)));
    let mut state = if options.demo {
        let account = server::DemoAccount {
            role: "administrator".into(),
            name: "Директорова Анна".into(),
            login: "director".into(),
            password: PASSWORD.into(),
            org: "Школа № 1".into(),
            note: "директор".into(),
        };
        AppState::demo(db.store.clone(), vec![account], sms)
    } else {
        AppState::new(db.store.clone(), sms)
    };
    let time = Arc::new(AtomicI64::new(chrono::Utc::now().timestamp()));
    let clock_time = time.clone();
    state.clock = Arc::new(move || clock_time.load(Ordering::SeqCst));
    state.flood = Arc::new(server::flood::Flood::in_memory(options.flood.unwrap_or_else(unlimited)));
    if let Some(limits) = options.connections {
        state.connections = Arc::new(server::connections::Connections::new(limits));
    }
    if let Some(servers) = options.nats {
        join(&mut state, &servers).await;
    }
    if let Some(push) = options.push {
        state.start_push(&push).await.unwrap();
    }
    if let Some(calls) = options.calls {
        state.start_calls(calls).await.unwrap();
    }
    let files = options.files.map(|config| NodeFiles::open(&config, &mut state));
    let shutdown = start(listener, &state);
    TestApp { base, db, state, time, shutdown: Some(shutdown), files }
}

fn start(listener: tokio::net::TcpListener, state: &AppState) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, state.clone(), async {
        let _ = rx.await;
    }));
    tx
}

static NODES: AtomicI64 = AtomicI64::new(0);

async fn join(state: &mut AppState, servers: &cluster::Servers) {
    let name = format!("test-node-{}", NODES.fetch_add(1, Ordering::Relaxed));
    let (link, streams) = cluster::Link::connect(servers, &name).await.unwrap();
    state.join_cluster(link, streams);
}

/// Another node of `app`'s cluster: its own connections to the same
/// database, the same clock, the same file storage (its own client of a
/// configured store), and NATS when `options` give it.
pub struct Node {
    pub base: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _files: Option<NodeFiles>,
}

/// How [`spawn_node`] starts another node.
#[derive(Default)]
pub struct NodeOptions {
    pub nats: Option<cluster::Servers>,
    pub calls: Option<server::messenger::calls::CallsConfig>,
    /// The database as this node reaches it (through a proxy, say); `app`'s by default.
    pub database_url: Option<String>,
    pub push: Option<server::notify::PushConfig>,
}

pub async fn spawn_node(app: &TestApp, options: NodeOptions) -> Node {
    let store = storage::Store::open(options.database_url.as_deref().unwrap_or(&app.db.url)).await.unwrap();
    let mut state = AppState::new(store, app.state.sms.clone());
    let time = app.time.clone();
    state.clock = Arc::new(move || time.load(Ordering::SeqCst));
    state.flood = Arc::new(server::flood::Flood::in_memory(unlimited()));
    if let Some(servers) = &options.nats {
        join(&mut state, servers).await;
    }
    if let Some(push) = options.push {
        state.start_push(&push).await.unwrap();
    }
    if let Some(calls) = options.calls {
        state.start_calls(calls).await.unwrap();
    }
    let files = match &app.files {
        Some(files) => Some(NodeFiles::open(&files.config, &mut state)),
        None => {
            state.files = app.state.files.clone();
            None
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = start(listener, &state);
    Node { base, state, shutdown: Some(shutdown), _files: files }
}

impl Node {
    /// Stops serving, as a node taken out of the load balancer would.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).build().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's clock.
    pub fn now(&self) -> i64 {
        self.time.load(Ordering::SeqCst)
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, secs: i64) {
        self.time.fetch_add(secs, Ordering::SeqCst);
    }

    pub async fn signed_in(&self, login: &str) -> reqwest::Client {
        let client = self.client();
        let res = client
            .post(self.url("/api/session"))
            .json(&json!({"login": login, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{login} must be able to sign in");
        client
    }

    /// Signs in a fixture person who has no password yet (gives them one).
    pub async fn signed_in_anyone(&self, login: &str) -> reqwest::Client {
        let person = self.db.store.credentials(login).await.unwrap().unwrap().person_id;
        self.db.store.set_password(person, &hash_password(PASSWORD), false).await.unwrap();
        self.signed_in(login).await
    }

    /// The person id of a fixture login.
    pub async fn person_id(&self, login: &str) -> i64 {
        self.db.store.credentials(login).await.unwrap().unwrap().person_id.into()
    }

    /// A client whose connections come from another loopback address, as
    /// another network would (all of 127.0.0.0/8 reaches the server).
    pub fn client_from(&self, address: [u8; 4]) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).local_address(std::net::IpAddr::from(address)).build().unwrap()
    }

    /// Asks for a code for `phone` and proves it; returns the proof response.
    pub async fn prove(&self, client: &reqwest::Client, phone: &str) -> Value {
        let res = self.post(client, "/api/identity/codes", json!({ "phone": phone })).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        let code = self.last_code(phone);
        let res = self.post(client, "/api/identity/proofs", json!({ "phone": phone, "code": code })).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    pub async fn org_of(&self, client: &reqwest::Client) -> i64 {
        let me: Value = client.get(self.url("/api/me")).send().await.unwrap().json().await.unwrap();
        me["roles"][0]["org_id"].as_i64().unwrap()
    }

    pub async fn post(&self, client: &reqwest::Client, path: &str, body: Value) -> reqwest::Response {
        client.post(self.url(path)).json(&body).send().await.unwrap()
    }

    /// The newest code the development sender "sent" to a phone.
    pub fn last_code(&self, phone: &str) -> String {
        let phone = identity::Phone::parse(phone).unwrap();
        let outbox = self.state.sms.dev_outbox().unwrap();
        let text = &outbox.iter().find(|m| m.phone == phone.as_e164()).unwrap().text;
        text.chars().filter(char::is_ascii_digit).collect()
    }

    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.db.finish().await;
    }
}

/// The status and stable code of an error response; checks it carries both messages.
pub async fn error_code(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "a Russian message: {body}");
    assert!(body["message_en"].as_str().is_some_and(|m| !m.is_empty()), "an English message: {body}");
    (status, body["code"].as_str().unwrap().to_string())
}
