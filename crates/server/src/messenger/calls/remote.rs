//! Calls across nodes. A call lives on the node that started it (its row
//! names the node); a person whose socket is on another node takes part
//! through two NATS services of each node:
//! - `parta.calls.<node>`: the call frames of connections elsewhere, as
//!   requests (the answer carries the error the frame met, if any), and what
//!   happens to those connections (closed, chats changed);
//! - `parta.lines.<node>`: the frames a call elsewhere sends to one of this
//!   node's connections.
//!
//! The SDP answer comes from the hosting node's SFU, so it carries that
//! node's UDP address: media never crosses nodes. A node that does not answer
//! because it is gone has its calls ended with a record, and a join then
//! starts a new call here. Nodes trust each other's word on who a connection
//! is: NATS is the cluster's private network (docs/deployment.md).

use super::{Caller, Calls, Line, LineId, LineTo, Node};
use crate::error::{
    ApiError, CALL_ADMINS_START, CALL_FORBIDDEN, CALL_INVALID_SDP, CALL_MICS_LOCKED, CALL_NOT_FOUND, CALL_REMOVED,
    CALL_UNAVAILABLE, INVALID_INPUT, UNAVAILABLE,
};
use crate::messenger::hub::Outbound;
use crate::messenger::protocol::ClientFrame;
use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use cluster::{Link, RequestError};
use messenger::call::CallOutcome;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, PoisonError, Weak};

const CALLS: &str = "calls";
const LINES: &str = "lines";

/// What a connection elsewhere asks of, or tells, a call's node.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Op {
    Frame(ClientFrame),
    Closed,
    Memberships { chats: Vec<i64> },
    Snapshot { chats: Vec<i64> },
}

#[derive(Debug, Serialize, Deserialize)]
struct Asked {
    origin: String,
    conn: u64,
    account: i64,
    /// The chat of the call and the person the account is there.
    seat: Option<(i64, i64)>,
    op: Op,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Answer {
    /// The stable code of the error the frame met.
    error: Option<String>,
    frames: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LineFrame {
    conn: u64,
    frame: String,
}

fn json(value: &impl Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// The errors a call frame can meet on the hosting node, by code.
fn error_of(code: &str) -> ApiError {
    [
        CALL_NOT_FOUND,
        CALL_FORBIDDEN,
        CALL_INVALID_SDP,
        CALL_UNAVAILABLE,
        CALL_ADMINS_START,
        CALL_REMOVED,
        CALL_MICS_LOCKED,
        INVALID_INPUT,
    ]
    .into_iter()
    .find(|e| e.code == code)
    .unwrap_or(UNAVAILABLE)
}

pub(super) enum Route {
    Here,
    There { node: String, chat: i64 },
}

fn call_of(frame: &ClientFrame) -> Option<i64> {
    match frame {
        ClientFrame::CallAnswer { call, .. }
        | ClientFrame::CallMedia { call, .. }
        | ClientFrame::CallLeave { call }
        | ClientFrame::CallDecline { call }
        | ClientFrame::CallMute { call, .. }
        | ClientFrame::CallRemove { call, .. }
        | ClientFrame::CallLetBack { call, .. }
        | ClientFrame::CallHand { call, .. }
        | ClientFrame::CallLowerHand { call, .. }
        | ClientFrame::CallMuteAll { call }
        | ClientFrame::CallUnlockMics { call }
        | ClientFrame::CallFloor { call, .. }
        | ClientFrame::CallPin { call, .. }
        | ClientFrame::CallEnd { call } => Some(*call),
        _ => None,
    }
}

/// Where a call frame is handled: here, or on the node hosting its call.
pub(super) async fn route(node: &Node, caller: &Caller<'_>, frame: &ClientFrame) -> Result<Route, ApiError> {
    if node.messenger.link().is_none() {
        return Ok(Route::Here);
    }
    let me = &node.config.node;
    if let ClientFrame::CallJoin { chat, .. } = frame {
        if node.state.lock().await.by_chat.contains_key(chat) || !caller.people.contains_key(chat) {
            return Ok(Route::Here);
        }
        let live = node.store.live_calls_in(&[*chat]).await.map_err(|_| UNAVAILABLE)?;
        return Ok(match live.into_iter().find(|(_, _, host)| host != me) {
            Some((_, chat, host)) => Route::There { node: host, chat },
            None => Route::Here,
        });
    }
    let Some(call) = call_of(frame) else { return Ok(Route::Here) };
    if node.state.lock().await.calls.contains_key(&call) {
        return Ok(Route::Here);
    }
    Ok(match node.store.call_host(call).await.map_err(|_| UNAVAILABLE)? {
        Some((chat, host, false)) if host != *me && caller.people.contains_key(&chat) => {
            Route::There { node: host, chat }
        }
        _ => Route::Here,
    })
}

/// Hands a frame to the call's node and returns what it met there.
pub(super) async fn forward(
    node: &Arc<Node>,
    caller: &Caller<'_>,
    host: &str,
    chat: i64,
    frame: ClientFrame,
) -> Result<(), ApiError> {
    let link = node.messenger.link().ok_or(UNAVAILABLE)?;
    let person = *caller.people.get(&chat).ok_or(CALL_NOT_FOUND)?;
    let joining = matches!(frame, ClientFrame::CallJoin { .. });
    let conn = caller.line.id.conn;
    let asked = Asked {
        origin: link.node().to_string(),
        conn,
        account: caller.account,
        seat: Some((chat, person)),
        op: Op::Frame(frame.clone()),
    };
    match link.request(CALLS, host, json(&asked)).await {
        Ok(payload) => {
            let answer: Answer = serde_json::from_slice(&payload).map_err(|_| UNAVAILABLE)?;
            if let Some(code) = answer.error {
                return Err(error_of(&code));
            }
            if joining {
                let mut elsewhere = node.seats_elsewhere.lock().unwrap_or_else(PoisonError::into_inner);
                elsewhere.entry(conn).or_default().insert(host.to_string());
            }
            Ok(())
        }
        Err(RequestError::NoNode) => {
            tracing::warn!(node = host, chat, "a call's node is gone: its calls end");
            end_calls_of(node, host, &[chat]).await;
            if joining {
                let caller = Caller { account: caller.account, people: caller.people, line: caller.line.clone() };
                Calls { node: Some(Arc::clone(node)) }.handle_here(caller, frame).await
            } else {
                Err(CALL_NOT_FOUND)
            }
        }
        Err(e) => {
            tracing::warn!(node = host, error = %e, "a call's node did not answer");
            Err(UNAVAILABLE)
        }
    }
}

/// Ends the unfinished calls `host` holds in `chats`: it is gone.
async fn end_calls_of(node: &Node, host: &str, chats: &[i64]) {
    match node.store.live_calls_in(chats).await {
        Ok(live) => {
            for (call, _, _) in live.into_iter().filter(|(_, _, h)| h == host) {
                node.write_record(call, CallOutcome::ServerRestart).await;
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot read the calls of a gone node"),
    }
}

/// Tells the nodes where a connection of this node has seats what happened
/// to it; `forget` when it is gone for good.
pub(super) fn tell_elsewhere(node: &Node, conn: u64, op: Op, forget: bool) {
    let Some(link) = node.messenger.link() else { return };
    let hosts = {
        let mut elsewhere = node.seats_elsewhere.lock().unwrap_or_else(PoisonError::into_inner);
        if forget {
            elsewhere.remove(&conn).unwrap_or_default()
        } else {
            elsewhere.get(&conn).cloned().unwrap_or_default()
        }
    };
    let asked = Asked { origin: link.node().to_string(), conn, account: 0, seat: None, op };
    let payload = json(&asked);
    for host in hosts {
        link.tell(CALLS, &host, payload.clone());
    }
}

/// `call_state` of the calls in `chats` that other nodes host.
pub(super) async fn snapshot_elsewhere(node: &Node, chats: &[i64]) -> Vec<Utf8Bytes> {
    let Some(link) = node.messenger.link() else { return Vec::new() };
    let live = match node.store.live_calls_in(chats).await {
        Ok(live) => live,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the live calls of a connection's chats");
            return Vec::new();
        }
    };
    let mut by_host: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (_, chat, host) in live.into_iter().filter(|(_, _, host)| *host != node.config.node) {
        by_host.entry(host).or_default().push(chat);
    }
    let mut frames = Vec::new();
    for (host, chats) in by_host {
        let asked = Asked {
            origin: link.node().to_string(),
            conn: 0,
            account: 0,
            seat: None,
            op: Op::Snapshot { chats: chats.clone() },
        };
        match link.request(CALLS, &host, json(&asked)).await {
            Ok(payload) => {
                let answer: Answer = serde_json::from_slice(&payload).unwrap_or_default();
                frames.extend(answer.frames.into_iter().map(Utf8Bytes::from));
            }
            Err(RequestError::NoNode) => end_calls_of(node, &host, &chats).await,
            Err(e) => tracing::warn!(node = %host, error = %e, "a call's node did not answer"),
        }
    }
    frames
}

/// A frame for a connection on another node.
pub(super) fn send_to_line(link: &Link, line: &LineId, frame: Utf8Bytes) {
    if let Some(node) = &line.node {
        link.tell(LINES, node, json(&LineFrame { conn: line.conn, frame: frame.as_str().to_string() }));
    }
}

/// Answers the other nodes: their connections' frames for the calls here,
/// and calls' frames for this node's connections.
pub(super) async fn serve(node: &Arc<Node>) {
    let Some(link) = node.messenger.link() else { return };
    match (link.serve(CALLS).await, link.serve(LINES).await) {
        (Ok(calls), Ok(lines)) => {
            tokio::spawn(answer_calls(Arc::downgrade(node), link.clone(), calls));
            tokio::spawn(deliver_lines(Arc::downgrade(node), lines));
        }
        (Err(e), _) | (_, Err(e)) => tracing::error!(error = %e, "calls cannot be reached from other nodes"),
    }
}

/// One at a time, in the order they came: a join before its answer.
async fn answer_calls(node: Weak<Node>, link: Link, mut requests: tokio::sync::mpsc::Receiver<cluster::Request>) {
    while let Some(request) = requests.recv().await {
        let Some(node) = node.upgrade() else { return };
        let Ok(asked) = serde_json::from_slice::<Asked>(&request.payload) else {
            tracing::warn!("an unreadable call request from another node");
            continue;
        };
        let line =
            Line { id: LineId { node: Some(asked.origin.into()), conn: asked.conn }, to: LineTo::Remote(link.clone()) };
        let answer = match asked.op {
            Op::Frame(frame) => {
                let people: HashMap<i64, i64> = asked.seat.into_iter().collect();
                let caller = Caller { account: asked.account, people: &people, line };
                let result = Calls { node: Some(Arc::clone(&node)) }.handle_here(caller, frame).await;
                Answer { error: result.err().map(|e| e.code.to_string()), frames: Vec::new() }
            }
            Op::Closed => {
                node.line_closed(&line.id).await;
                Answer::default()
            }
            Op::Memberships { chats } => {
                node.memberships_changed(&line.id, &chats.into_iter().collect::<HashSet<i64>>()).await;
                Answer::default()
            }
            Op::Snapshot { chats } => {
                let frames = node.snapshot_here(&chats).await.iter().map(|f| f.as_str().to_string()).collect();
                Answer { error: None, frames }
            }
        };
        link.respond(&request, json(&answer));
    }
}

async fn deliver_lines(node: Weak<Node>, mut frames: tokio::sync::mpsc::Receiver<cluster::Request>) {
    while let Some(message) = frames.recv().await {
        let Some(node) = node.upgrade() else { return };
        let Ok(LineFrame { conn, frame }) = serde_json::from_slice(&message.payload) else { continue };
        let tx = node.lines.lock().unwrap_or_else(PoisonError::into_inner).get(&conn).and_then(|tx| tx.upgrade());
        if let Some(tx) = tx {
            let _ = tx.try_send(Outbound::reply(frame));
        }
    }
}
