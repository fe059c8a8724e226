//! A messenger WebSocket client: connects from a chosen loopback source
//! address, authenticates with the session cookie, and speaks JSON frames.

use crate::{Error, Result, loopback_addr};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;

/// Small buffers: a load generator holds tens of thousands of these.
fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Opens `/api/ws` of the server at `url` (`http://127.0.0.1:PORT`), with
/// `cookie` (`parta_messenger=…`) if given, from `source` (any loopback
/// address; the kernel picks the port) if given.
pub async fn connect(url: &str, cookie: Option<&str>, source: Option<IpAddr>) -> Result<Ws> {
    let addr = loopback_addr(url)?;
    let stream = tcp(addr, source).await?;
    let mut request = format!("ws://{addr}/api/ws").into_client_request()?;
    if let Some(cookie) = cookie {
        let value = HeaderValue::from_str(cookie).map_err(|_| Error::Protocol("a cookie must be ASCII".into()))?;
        request.headers_mut().insert("cookie", value);
    }
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config())).await?;
    Ok(ws)
}

/// A TCP connection to `addr` from `source` (a loopback address) if given.
pub async fn tcp(addr: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(ip) = source {
        if !ip.is_loopback() {
            return Err(Error::NotLoopback(ip.to_string()));
        }
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `{"type":"hello","v":1,"positions":[{chat, seq}…]}`.
pub fn hello(positions: &[(i64, i64)]) -> String {
    let positions: Vec<Value> = positions.iter().map(|(chat, seq)| json!({ "chat": chat, "seq": seq })).collect();
    json!({ "type": "hello", "v": 1, "positions": positions }).to_string()
}

/// `{"type":"send",…}` with a client id.
pub fn send_frame(chat: i64, client_id: &str, text: &str) -> String {
    json!({ "type": "send", "chat": chat, "client_id": client_id, "text": text }).to_string()
}

/// The protocol a workload's server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    Parta,
    /// `../shared/reference/bare-ws`, the machine's ceiling for fan-out: a
    /// room by name, no sessions, no history; an ack names the sender's
    /// `txn`, and members get `msg` frames with the `body`.
    BareWs {
        room: String,
    },
}

impl Dialect {
    /// The first frame of member `member`, resuming `chat` after `position`.
    pub fn hello(&self, member: usize, chat: i64, position: i64) -> String {
        match self {
            Dialect::Parta => hello(&[(chat, position)]),
            Dialect::BareWs { room } => {
                json!({ "type": "hello", "user": format!("u{member}"), "room": room }).to_string()
            }
        }
    }

    /// A send of `text`, the sender's `n`th, whose client id is `client_id`.
    pub fn send(&self, chat: i64, client_id: &str, n: u64, text: &str) -> String {
        match self {
            Dialect::Parta => send_frame(chat, client_id, text),
            Dialect::BareWs { .. } => json!({ "type": "msg", "txn": n, "body": text }).to_string(),
        }
    }
}

/// A connection that reads and writes `serde_json::Value`s: for tests and
/// low-rate tools (the workloads parse frames without building values).
pub struct Socket {
    pub ws: Ws,
}

impl Socket {
    /// Connects and says `hello` with these positions. Does not wait for `ready`.
    pub async fn open(url: &str, cookie: &str, positions: &[(i64, i64)]) -> Result<Socket> {
        let mut ws = connect(url, Some(cookie), None).await?;
        ws.send(Message::Text(hello(positions).into())).await?;
        Ok(Socket { ws })
    }

    pub async fn send_text(&mut self, text: String) -> Result<()> {
        self.ws.send(Message::Text(text.into())).await?;
        Ok(())
    }

    pub async fn send_json(&mut self, frame: &Value) -> Result<()> {
        self.send_text(frame.to_string()).await
    }

    /// The next JSON frame; `Ok(None)` when the socket closed, `Err(Timeout)`
    /// when nothing came within `wait`.
    pub async fn next_json(&mut self, wait: Duration) -> Result<Option<Value>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| Error::Timeout(format!("no frame within {wait:?}")))?;
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text).map(Some).map_err(|e| Error::Protocol(e.to_string()));
                }
                Some(Ok(Message::Close(_))) | None => return Ok(None),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Skips frames until one of type `kind`; fails if the socket closes or
    /// nothing comes within `wait`.
    pub async fn until(&mut self, kind: &str, wait: Duration) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_json(left).await? {
                Some(frame) if frame["type"] == kind => return Ok(frame),
                Some(_) => continue,
                None => return Err(Error::Protocol(format!("the socket closed before a {kind} frame"))),
            }
        }
    }
}
