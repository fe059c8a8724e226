//! Several nodes sharing one database and a NATS server: whichever node a
//! person's socket is on, they get what anyone on any node did, and a NATS
//! outage loses nothing acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, Socket, linked, offer, on_node};
use common::{Node, NodeOptions, Options, TestApp, spawn_node, spawn_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::messenger::calls::CallsConfig;
use std::time::Duration;
use testkit::nats::NatsServer;

/// The fixture school on node A, plus node B, on a NATS server of the test's own.
async fn two_nodes(test: &str) -> Option<(NatsServer, TestApp, Node)> {
    two_nodes_with(test, None).await
}

/// Both nodes with an SFU each, when `calls` is set.
async fn two_nodes_with(test: &str, calls: Option<CallsConfig>) -> Option<(NatsServer, TestApp, Node)> {
    let nats = NatsServer::start(test).await?;
    let servers = cluster::parse_urls(&nats.url()).unwrap();
    let app = spawn_with(Options { nats: Some(servers.clone()), calls: calls.clone(), ..Options::default() }).await;
    let node = spawn_node(&app, NodeOptions { nats: Some(servers), calls, ..NodeOptions::default() }).await;
    Some((nats, app, node))
}

#[tokio::test]
async fn messages_edits_reactions_typing_and_read_marks_cross_between_nodes() {
    let Some((_nats, app, node)) = two_nodes("cluster messages").await else { return };
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let mut on_a = teacher.socket(&app, json!([])).await;
    on_a.until("ready").await;
    let mut on_b = student.socket_at(&node.base, json!([])).await;
    on_b.until("ready").await;

    on_a.send(json!({"type": "send", "chat": chat, "client_id": "a-1", "text": "Родительское собрание в четверг"}))
        .await;
    let ack = on_a.until("ack").await;
    let event = on_b.until("event").await;
    assert_eq!(
        (event["seq"].clone(), event["event"]["message"]["text"].as_str()),
        (ack["seq"].clone(), Some("Родительское собрание в четверг"))
    );
    let message = event["event"]["message"]["id"].as_i64().unwrap();
    assert_eq!(on_a.until("event").await["seq"], ack["seq"], "the sender's own socket has it too");

    // Over HTTP on node B, seen on node A.
    let reaction = format!("/api/messenger/chats/{chat}/messages/{message}/reactions/%F0%9F%91%8D");
    assert_eq!(on_node(&node, &student, Method::PUT, &reaction, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(on_a.until("event").await["event"]["kind"], "reaction_added");
    let res = on_node(
        &node,
        &student,
        Method::POST,
        &format!("/api/messenger/chats/{chat}/messages"),
        Some(json!({"client_id": "b-1", "text": "Я приду"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let reply = on_a.until("event").await;
    assert_eq!(reply["event"]["message"]["text"], "Я приду");
    let edit = format!("/api/messenger/chats/{chat}/messages/{}", reply["event"]["message"]["id"]);
    let res = on_node(&node, &student, Method::PATCH, &edit, Some(json!({"text": "Я приду с папой"}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(on_a.until("event").await["event"]["text"], "Я приду с папой");

    // Ephemeral frames: typing and read marks.
    on_b.send(json!({"type": "typing", "chat": chat})).await;
    assert_eq!(on_a.until("typing").await["person"], student.person);
    on_a.send(json!({"type": "read", "chat": chat, "seq": reply["seq"]})).await;
    assert_eq!(on_b.until("read").await["person"], teacher.person);

    // Node B's own members list knows who is online on node A.
    let members: Value = on_node(&node, &student, Method::GET, &format!("/api/messenger/chats/{chat}/members"), None)
        .await
        .json()
        .await
        .unwrap();
    let online =
        |person: i64| members.as_array().unwrap().iter().find(|m| m["person"] == person).unwrap()["online"].clone();
    assert_eq!((online(teacher.person), online(student.person)), (json!(true), json!(true)));
    app.finish().await;
}

#[tokio::test]
async fn unlinking_on_one_node_ends_the_persons_socket_on_another() {
    let Some((_nats, app, node)) = two_nodes("cluster unlink").await else { return };
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let mut on_b = teacher.socket_at(&node.base, json!([])).await;
    on_b.until("ready").await;
    let res = teacher.portal.delete(app.url(&format!("/api/chats/{}/link", teacher.org))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(on_b.until("bye").await, json!({"type": "bye", "reason": "session_ended", "resume": false}));
    app.finish().await;
}

/// NATS dies while people write and a parent unlinks: every acknowledged
/// message is in the database, and once NATS is back the socket on the other
/// node has them all, each once, in order, and the parent's socket there ends.
#[tokio::test]
async fn a_nats_outage_loses_no_acknowledged_message() {
    let Some((mut nats, app, node)) = two_nodes("cluster NATS outage").await else { return };
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let mut on_b = student.socket_at(&node.base, json!([{"chat": chat, "seq": 0}])).await;
    on_b.until("ready").await;
    let mut parent_on_b = parent.socket_at(&node.base, json!([])).await;
    parent_on_b.until("ready").await;
    let first: Value = teacher.send(&app, chat, "before", "до сбоя").await.json().await.unwrap();
    assert_eq!(on_b.until("event").await["seq"], first["seq"]);

    nats.kill();
    let readiness = wait_for_readiness(&node.base, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!((readiness["database"].as_str(), readiness["bus"].as_str()), (Some("ok"), Some("unreachable")));
    let mut sent = Vec::new();
    for i in 0..5 {
        let res = teacher.send(&app, chat, &format!("during-{i}"), &format!("во время сбоя {i}")).await;
        assert_eq!(res.status(), StatusCode::OK, "a node without NATS still takes messages");
        sent.push(res.json::<Value>().await.unwrap()["seq"].as_i64().unwrap());
    }
    // An unlink on node A while NATS is down: node B hears of it only by catching up.
    let res = parent.portal.delete(app.url(&format!("/api/chats/{}/link", parent.org))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    nats.resume().await;
    wait_for_readiness(&node.base, StatusCode::OK).await;
    let bye = parent_on_b.until_within("bye", Duration::from_secs(15)).await;
    assert_eq!(bye, json!({"type": "bye", "reason": "session_ended", "resume": false}));
    let mut seen = Vec::new();
    while seen.len() < sent.len() {
        let event = on_b.until_within("event", Duration::from_secs(15)).await;
        seen.push(event["seq"].as_i64().unwrap());
    }
    assert_eq!(seen, sent, "each once, in order");
    app.finish().await;
}

async fn wait_for_readiness(base: &str, status: StatusCode) -> Value {
    for _ in 0..100 {
        let res = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if res.status() == status {
            return res.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}");
}

/// Reconciliation at start, purges and the file collector run on one node
/// of the cluster, and on another once that one is gone.
#[tokio::test]
async fn background_jobs_run_on_one_node_and_move_when_it_stops() {
    let Some((nats, app, node)) = two_nodes("cluster jobs").await else { return };
    let servers = cluster::parse_urls(&nats.url()).unwrap();
    let third = spawn_node(&app, NodeOptions { nats: Some(servers), ..NodeOptions::default() }).await;
    let mut jobs: Vec<server::jobs::Jobs> =
        [&app.state, &node.state, &third.state].into_iter().map(|s| server::jobs::spawn(s.clone())).collect();
    if app.state.store.backend() == "sqlite" {
        // One process per SQLite file: every node there leads; nothing to share.
        app.finish().await;
        return;
    }
    let leaders = wait_until(&mut jobs, |leading| leading == 1).await;
    let leader = leaders.iter().position(|l| *l).unwrap();
    jobs.remove(leader).stop();
    let leaders = wait_until(&mut jobs, |leading| leading == 1).await;
    assert_eq!(leaders.iter().filter(|l| **l).count(), 1, "another node took over");
    app.finish().await;
}

/// Waits (up to 15 s) until the number of leading nodes satisfies `done`.
async fn wait_until(jobs: &mut [server::jobs::Jobs], done: impl Fn(usize) -> bool) -> Vec<bool> {
    for _ in 0..150 {
        let leading: Vec<bool> = jobs.iter().map(server::jobs::Jobs::leading).collect();
        if done(leading.iter().filter(|l| **l).count()) {
            // Still so a moment later: two leaders at once would show here.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let again: Vec<bool> = jobs.iter().map(server::jobs::Jobs::leading).collect();
            assert_eq!(again, leading);
            return leading;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the lead did not settle");
}

/// The port of the SFU an SDP answer sends media to.
fn media_port(sdp: &str) -> String {
    let candidate = sdp.lines().find(|l| l.starts_with("a=candidate")).unwrap();
    candidate.split(' ').nth(5).unwrap().to_string()
}

/// The class teacher's video call on node A, her socket there, and a
/// student of the class with a socket on node B.
struct ClassCall {
    _nats: NatsServer,
    app: TestApp,
    node: Node,
    student: Linked,
    chat: i64,
    call: i64,
    on_a: Socket,
    on_b: Socket,
}

/// The class teacher's socket on node A and a student's on node B, both
/// ready, in «5А класс».
async fn class_across_nodes(
    test: &str,
    calls: CallsConfig,
) -> Option<(NatsServer, TestApp, Node, Linked, i64, Socket, Socket)> {
    let (nats, app, node) = two_nodes_with(test, Some(calls)).await?;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut on_a = teacher.socket(&app, json!([])).await;
    on_a.until("ready").await;
    let mut on_b = student.socket_at(&node.base, json!([])).await;
    on_b.until("ready").await;
    Some((nats, app, node, student, chat, on_a, on_b))
}

async fn class_call_across_nodes(test: &str) -> Option<ClassCall> {
    let calls = CallsConfig { ring_timeout_secs: 2, reconnect_grace_secs: 2, ..CallsConfig::default() };
    let (_nats, app, node, student, chat, mut on_a, on_b) = class_across_nodes(test, calls).await?;
    on_a.send(json!({"type": "call_join", "chat": chat, "kind": "video", "sdp": offer()})).await;
    let call = on_a.until("call_joined").await["call"]["id"].as_i64().unwrap();
    Some(ClassCall { _nats, app, node, student, chat, call, on_a, on_b })
}

/// A call lives on the node that started it: a member whose socket is on
/// another node joins that call, gets that node's SFU in its answer, and
/// moderation and leaving work across the two.
#[tokio::test]
async fn a_member_on_another_node_joins_the_call_where_it_lives() {
    let Some(ClassCall { _nats, app, node, student, chat, call, mut on_a, mut on_b }) =
        class_call_across_nodes("cluster calls").await
    else {
        return;
    };
    assert_eq!(on_b.until("call_state").await["call"]["id"], call, "node B's members see the call");

    on_b.send(json!({"type": "call_join", "chat": chat, "kind": "video", "sdp": offer()})).await;
    let joined = on_b.until("call_joined").await;
    assert_eq!(joined["call"]["id"], call, "the chat's call, not a second one on node B");
    let a_sfu = app.state.calls.media_addresses()[0].port().to_string();
    assert_eq!(media_port(joined["sdp"].as_str().unwrap()), a_sfu, "media goes to node A's SFU");
    assert_ne!(a_sfu, node.state.calls.media_addresses()[0].port().to_string());

    on_a.send(json!({"type": "call_mute", "call": call, "person": student.person})).await;
    assert_eq!(on_b.until("call_muted").await["by"], "Учителева Ольга");
    on_b.send(json!({"type": "call_end", "call": call})).await;
    assert_eq!(on_b.until("error").await["code"], "call_forbidden", "node A's rules, answered on node B");

    // Someone who opens the messenger on node B during the call sees it.
    let mut late = student.socket_at(&node.base, json!([])).await;
    late.until("ready").await;
    assert_eq!(late.until("call_state").await["call"]["id"], call);

    on_b.send(json!({"type": "call_leave", "call": call})).await;
    assert_eq!(on_b.until("call_left").await["reason"], "left");
    let state = on_a.until("call_state").await;
    assert_eq!(state["call"]["participants"].as_array().unwrap().len(), 1);
    app.finish().await;
}

/// Two people on two nodes pressing «Позвонить» in one chat at the same
/// instant end up in one call, hosted where the first start landed.
#[tokio::test]
async fn two_nodes_starting_a_call_in_one_chat_at_once_make_one_call() {
    let Some((_nats, app, _node, _student, chat, mut on_a, mut on_b)) =
        class_across_nodes("cluster call race", CallsConfig::default()).await
    else {
        return;
    };
    let join = json!({"type": "call_join", "chat": chat, "kind": "audio", "sdp": offer()});
    tokio::join!(on_a.send(join.clone()), on_b.send(join));
    let (a, b) = tokio::join!(on_a.until("call_joined"), on_b.until("call_joined"));
    assert_eq!(a["call"]["id"], b["call"]["id"], "one call for the chat");
    assert_eq!(app.db.store.live_calls_in(&[chat]).await.unwrap().len(), 1);
    app.finish().await;
}

/// A node that is gone cannot serve its calls: a join ends them with a
/// record and starts a new call where the joiner is.
#[tokio::test]
async fn a_call_whose_node_is_gone_ends_with_a_record_and_a_new_one_starts() {
    let Some((_nats, app, node)) = two_nodes_with("cluster gone call", Some(CallsConfig::default())).await else {
        return;
    };
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let kind = messenger::call::CallKind::Audio;
    let orphan =
        app.db.store.start_call(chat, teacher.person, kind, "a-node-that-died", app.state.now()).await.unwrap();
    let mut on_b = teacher.socket_at(&node.base, json!([])).await;
    on_b.until("ready").await;
    on_b.send(json!({"type": "call_join", "chat": chat, "kind": "audio", "sdp": offer()})).await;
    let joined = on_b.until("call_joined").await;
    assert_ne!(joined["call"]["id"], orphan, "a new call");
    let record = app.db.store.call_chat(orphan).await.unwrap();
    assert_eq!(record, Some((chat, true)), "the gone node's call is over");
    app.finish().await;
}

/// The teacher's classroom controls on node A's call reach a student whose
/// socket is on node B, and her own controls go there through node A.
#[tokio::test]
async fn classroom_controls_work_for_a_student_on_another_node() {
    let Some(ClassCall { _nats, app, node: _node, student, chat, call, mut on_a, mut on_b }) =
        class_call_across_nodes("cluster classroom").await
    else {
        return;
    };
    let join = json!({"type": "call_join", "chat": chat, "kind": "video", "sdp": offer()});
    on_b.send(join.clone()).await;
    on_b.until("call_joined").await;

    // Removed, she is refused on node B until let back in.
    on_a.send(json!({"type": "call_remove", "call": call, "person": student.person})).await;
    assert_eq!(on_b.until("call_left").await["reason"], "removed");
    on_b.send(join.clone()).await;
    assert_eq!(on_b.until("error").await["code"], "call_removed", "node A's refusal, answered on node B");
    on_a.send(json!({"type": "call_let_back", "call": call, "person": student.person})).await;
    on_b.call_state_where(|c| c["removed"] == json!([])).await;
    on_b.send(join.clone()).await;
    assert_eq!(on_b.until("call_joined").await["call"]["id"], call);

    // Her raised hand reaches the teacher on node A, who lowers it.
    on_b.send(json!({"type": "call_hand", "call": call, "raised": true})).await;
    on_a.call_state_where(|c| c["hands"] == json!([student.person])).await;
    on_b.send(json!({"type": "call_lower_hand", "call": call, "person": student.person})).await;
    assert_eq!(on_b.until("error").await["code"], "call_forbidden", "only a moderator lowers another's hand");
    on_a.send(json!({"type": "call_lower_hand", "call": call, "person": student.person})).await;
    on_b.call_state_where(|c| c["hands"] == json!([])).await;

    // Locked microphones hold for her on node B; the floor frees hers.
    let unmute = json!({"type": "call_media", "call": call, "audio": true, "video": true, "screen": false});
    on_b.send(json!({"type": "call_mute_all", "call": call})).await;
    assert_eq!(on_b.until("error").await["code"], "call_forbidden");
    on_a.send(json!({"type": "call_mute_all", "call": call})).await;
    on_b.call_state_where(|c| c["mics_locked"] == true).await;
    on_b.send(unmute.clone()).await;
    assert_eq!(on_b.until("error").await["code"], "call_mics_locked");
    on_a.send(json!({"type": "call_floor", "call": call, "person": student.person})).await;
    on_b.call_state_where(|c| c["floor"] == student.person).await;
    on_b.send(unmute).await;
    on_a.call_state_where(|c| {
        c["participants"].as_array().unwrap().iter().any(|p| p["person"] == student.person && p["audio"] == true)
    })
    .await;

    // Pinned by the teacher as the presenter, for everyone; her leaving on node B unpins.
    on_b.send(json!({"type": "call_pin", "call": call, "person": student.person})).await;
    assert_eq!(on_b.until("error").await["code"], "call_forbidden");
    on_a.send(json!({"type": "call_pin", "call": call, "person": student.person})).await;
    on_b.call_state_where(|c| c["presenter"] == student.person).await;
    on_b.send(json!({"type": "call_leave", "call": call})).await;
    on_a.call_state_where(|c| c["presenter"].is_null()).await;
    app.finish().await;
}
