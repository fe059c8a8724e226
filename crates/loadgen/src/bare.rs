//! The bare reference of the issue "Messenger core": the least a WebSocket
//! broadcast server must do for W1, and nothing more. No storage, no
//! authentication, no JSON beyond the envelope: `hello` → `ready`, `send` →
//! the next sequence number, an `event` frame of the same shape as Parta's to
//! every connection, and an `ack` to the sender. Built like Parta's
//! connections (one task per socket selecting between the socket and a
//! bounded queue, a full queue drops the connection) so that
//! the ratio measures what Parta adds: the database, the access checks, the
//! group commit and its serialisation.

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames queued per connection before it is dropped. Parta's hub drops at
/// 1,024 and the client resumes from the database; the bare server cannot
/// replay, so it queues more rather than lose frames on a busy machine.
const QUEUE: usize = 16_384;

#[derive(Default)]
struct Room {
    seq: i64,
    next_id: u64,
    conns: HashMap<u64, mpsc::Sender<Utf8Bytes>>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    chat: i64,
    #[serde(default, borrow)]
    client_id: Cow<'a, str>,
    #[serde(default, borrow)]
    text: Cow<'a, str>,
}

#[derive(Serialize)]
struct EventFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    chat: i64,
    seq: i64,
    at: i64,
    event: EventBody<'a>,
}

#[derive(Serialize)]
struct EventBody<'a> {
    kind: &'static str,
    message: MessageBody<'a>,
}

#[derive(Serialize)]
struct MessageBody<'a> {
    id: i64,
    chat: i64,
    seq: i64,
    text: &'a str,
    created_at: i64,
}

#[derive(Serialize)]
struct Ack<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    client_id: &'a str,
    chat: i64,
    seq: i64,
    message_id: i64,
    duplicate: bool,
}

/// Serves until the listener fails. Every chat id shares one sequence.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    let room = Arc::new(Mutex::new(Room::default()));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let room = Arc::clone(&room);
        tokio::spawn(async move {
            let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(4096);
            if let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await {
                connection(ws, room).await;
            }
        });
    }
}

fn lock(room: &Mutex<Room>) -> std::sync::MutexGuard<'_, Room> {
    room.lock().unwrap_or_else(|p| p.into_inner())
}

async fn connection(mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, room: Arc<Mutex<Room>>) {
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(QUEUE);
    // The room holds the only sender, so a dropped connection sees its queue close.
    let mut tx = Some(tx);
    let mut id = None;
    loop {
        let text = tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            out = rx.recv(), if id.is_some() => match out {
                Some(frame) => {
                    if ws.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                    continue;
                }
                // Dropped as a slow consumer.
                None => break,
            },
        };
        let Ok(envelope) = serde_json::from_str::<Envelope>(&text) else { continue };
        let reply = match envelope.kind.as_ref() {
            "hello" if id.is_none() => {
                let Some(tx) = tx.take() else { continue };
                let mut room = lock(&room);
                let me = room.next_id;
                room.next_id += 1;
                room.conns.insert(me, tx);
                id = Some(me);
                format!(r#"{{"type":"ready","v":1,"chats":[],"last_seq":{}}}"#, room.seq)
            }
            "send" if id.is_some() => {
                let at = crate::unix_now();
                let mut room = lock(&room);
                room.seq += 1;
                let seq = room.seq;
                let message = MessageBody { id: seq, chat: envelope.chat, seq, text: &envelope.text, created_at: at };
                let frame = EventFrame {
                    kind: "event",
                    chat: envelope.chat,
                    seq,
                    at,
                    event: EventBody { kind: "message", message },
                };
                let frame: Utf8Bytes = serde_json::to_string(&frame).unwrap_or_default().into();
                // Under the lock, so every connection queues events in seq order.
                room.conns.retain(|_, conn| conn.try_send(frame.clone()).is_ok());
                drop(room);
                let ack = Ack {
                    kind: "ack",
                    client_id: &envelope.client_id,
                    chat: envelope.chat,
                    seq,
                    message_id: seq,
                    duplicate: false,
                };
                serde_json::to_string(&ack).unwrap_or_default()
            }
            "ping" => r#"{"type":"pong"}"#.to_string(),
            _ => continue,
        };
        if ws.send(Message::Text(reply.into())).await.is_err() {
            break;
        }
    }
    if let Some(me) = id {
        lock(&room).conns.remove(&me);
    }
}
