//! Messenger test clients: a school account linked to a learning profile with
//! a messenger session, and a WebSocket speaking the protocol.

use super::{Node, PASSWORD, TestApp, spawn_app};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use roster::Role;
use roster::import::{Batch, EnrollmentRole, Guardianship, Mode, Part};
use serde_json::{Value, json};
use server::auth::hash_password;
use std::time::Duration;
use testkit::fixture::{enrollment, origin, person, school};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A linked person signed in to the messenger through "Перейти в мессенджер".
pub struct Linked {
    pub portal: reqwest::Client,
    /// `parta_messenger=…`, for HTTP and the WebSocket handshake.
    pub cookie: String,
    pub org: i64,
    pub person: i64,
}

/// Gives `login` a password, signs in to the portal, links a profile with
/// `phone` and opens the messenger.
pub async fn linked(app: &TestApp, login: &str, phone: &str) -> Linked {
    let credentials = app.db.store.credentials(login).await.unwrap().unwrap();
    app.db.store.set_password(credentials.person_id, &hash_password(PASSWORD), false).await.unwrap();
    let portal = app.signed_in(login).await;
    let org = app.org_of(&portal).await;
    let res = app.post(&portal, "/api/identity/codes", json!({ "phone": phone })).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let code = app.last_code(phone);
    let proof: Value =
        app.post(&portal, "/api/identity/proofs", json!({ "phone": phone, "code": code })).await.json().await.unwrap();
    let person = app.db.store.person(credentials.person_id).await.unwrap();
    let about = json!({ "proof": proof["proof"], "last_name": person.last_name, "first_name": person.first_name });
    let res = app.post(&portal, &format!("/api/chats/{org}/link"), about).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let cookie = messenger_session(app, &portal, org).await;
    Linked { portal, cookie, org, person: credentials.person_id.into() }
}

/// «Перейти в Parta Мессенджер» from a linked portal session: a new
/// messenger session's cookie.
async fn messenger_session(app: &TestApp, portal: &reqwest::Client, org: i64) -> String {
    let entry: Value =
        app.post(portal, &format!("/api/chats/{org}/messenger-token"), json!({})).await.json().await.unwrap();
    let token = entry["url"].as_str().unwrap().split("token=").nth(1).unwrap();
    let res = app.post(&reqwest::Client::new(), "/api/messenger/session", json!({ "token": token })).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("parta_messenger="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Every byte percent-encoded: a path segment or `x-file-name` of any text.
pub fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

pub async fn upload(app: &TestApp, who: &Linked, chat: i64, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/api/messenger/chats/{chat}/files")))
        .header("cookie", &who.cookie)
        .header("x-file-name", urlencode(name))
        .body(bytes)
        .send()
        .await
        .unwrap()
}

pub async fn uploaded(app: &TestApp, who: &Linked, chat: i64, name: &str, bytes: Vec<u8>) -> Value {
    let res = upload(app, who, chat, name, bytes).await;
    assert_eq!(res.status(), StatusCode::OK, "upload {name}");
    res.json().await.unwrap()
}

/// A request of `who`'s to another node of the cluster.
pub async fn on_node(node: &Node, who: &Linked, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path}", node.base)).header("cookie", &who.cookie);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

impl Linked {
    /// The same person opening the messenger again (another device).
    pub async fn new_session(&self, app: &TestApp) -> Linked {
        let cookie = messenger_session(app, &self.portal, self.org).await;
        Linked { portal: self.portal.clone(), cookie, org: self.org, person: self.person }
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        reqwest::Client::new().get(app.url(path)).header("cookie", &self.cookie).send().await.unwrap()
    }

    pub async fn json(&self, app: &TestApp, path: &str) -> Value {
        let res = self.get(app, path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    pub async fn request(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = reqwest::Client::new().request(method, app.url(path)).header("cookie", &self.cookie);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> reqwest::Response {
        self.request(app, reqwest::Method::POST, path, Some(body)).await
    }

    /// The id of the chat with this name in the person's list.
    pub async fn chat_named(&self, app: &TestApp, name: &str) -> i64 {
        let chats = self.json(app, "/api/messenger/chats").await;
        chats
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no chat {name}: {chats}"))["id"]
            .as_i64()
            .unwrap()
    }

    /// Sends over HTTP; the answer's JSON.
    pub async fn send(&self, app: &TestApp, chat: i64, client_id: &str, text: &str) -> reqwest::Response {
        self.post(
            app,
            &format!("/api/messenger/chats/{chat}/messages"),
            json!({ "client_id": client_id, "text": text }),
        )
        .await
    }

    pub async fn socket(&self, app: &TestApp, positions: Value) -> Socket {
        self.socket_at(&app.base, positions).await
    }

    /// A socket on the server at `base` (another node of a cluster).
    pub async fn socket_at(&self, base: &str, positions: Value) -> Socket {
        let url = format!("{base}/api/ws").replacen("http", "ws", 1);
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("cookie", self.cookie.parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut socket = Socket { stream };
        socket.send(json!({ "type": "hello", "v": 1, "positions": positions })).await;
        socket
    }
}

pub struct Socket {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Socket {
    pub async fn send(&mut self, frame: Value) {
        self.stream.send(Message::Text(frame.to_string().into())).await.unwrap();
    }

    /// The next JSON frame, or `None` when nothing comes within a second (or
    /// the socket closed).
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(Duration::from_secs(2), self.stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return Some(serde_json::from_str(&text).unwrap()),
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Skips frames until one of type `kind` arrives, waiting up to `within`
    /// in all (for what the server does on a timer).
    pub async fn until_within(&mut self, kind: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if let Some(frame) = self.next().await
                && frame["type"] == kind
            {
                return frame;
            }
        }
        panic!("no {kind} frame came within {within:?}");
    }

    /// Skips frames until one of type `kind` arrives.
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await.unwrap_or_else(|| panic!("no {kind} frame came"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Skips frames until a `call_state` whose call satisfies `check`; returns that call.
    pub async fn call_state_where(&mut self, check: impl Fn(&Value) -> bool) -> Value {
        loop {
            let state = self.until("call_state").await;
            if check(&state["call"]) {
                return state["call"].clone();
            }
        }
    }
}

/// What a browser offers: its microphone and camera, sent only.
pub fn offer() -> String {
    use str0m::media::{Direction, MediaKind};
    str0m::crypto::from_feature_flags().install_process_default();
    let mut rtc = str0m::Rtc::builder().build(std::time::Instant::now());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, Some("me".into()), None, None);
    change.add_media(MediaKind::Video, Direction::SendOnly, Some("me".into()), None, None);
    change.apply().unwrap().0.to_sdp_string()
}

/// «Родители 5А» with every kind of family: the fixture's 5А gets a second
/// guardian for Алёна (parent2) and a daughter of the class teacher (Катя),
/// so it has two guardians of one child (Алёна), one guardian of two children
/// (parent1: Алёна and Иван), and a teacher who is also a parent.
pub struct ParentsChat {
    pub app: TestApp,
    pub teacher: Linked,
    pub parent1: Linked,
    pub parent2: Linked,
    pub chat: i64,
}

pub async fn parents_chat() -> ParentsChat {
    let app = spawn_app(false).await;
    let teacher_row = school().people.rows.into_iter().find(|p| p.source_id == "t1").unwrap();
    let batch = Batch {
        people: Part {
            mode: Mode::Delta,
            rows: vec![
                teacher_row,
                person("g2", "Королёв", "Андрей", "parent2", &[Role::Guardian]),
                person("st4", "Учителева", "Катя", "student4", &[Role::Student]),
            ],
        },
        enrollments: Part {
            mode: Mode::Delta,
            rows: vec![enrollment("e6", "st4", "c5a", EnrollmentRole::Student, false)],
        },
        guardianships: vec![
            (origin("users.csv", 3), Guardianship { guardian: "t1".into(), student: "st3".into() }),
            (origin("users.csv", 3), Guardianship { guardian: "t1".into(), student: "st4".into() }),
            (origin("users.csv", 9), Guardianship { guardian: "g2".into(), student: "st1".into() }),
        ],
        ..Batch::default()
    };
    app.db.store.apply_import(&batch, storage::Run::Apply, &|p: &str| p.to_string()).await.unwrap();
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent1 = linked(&app, "parent1", "+79120000003").await;
    let parent2 = linked(&app, "parent2", "+79120000004").await;
    let chat = teacher.chat_named(&app, "Родители 5А").await;
    assert_eq!(parent2.chat_named(&app, "Родители 5А").await, chat);
    ParentsChat { app, teacher, parent1, parent2, chat }
}
