//! The messenger end to end: the real server, its WebSocket and HTTP API, on a
//! fresh database (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`). The
//! fixture school: 5А with Алёна and Иван (children of parent1) and class
//! teacher Ольга (teacher1, also Миша's mother); Миша in 5Б; Пётр (teacher2)
//! teaches Математика 5А.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{linked, urlencode};
use common::{error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn a_teacher_posts_in_the_class_chat_and_the_student_sees_it_live_then_reads_it() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    assert_eq!(teacher.chat_named(&app, "5А класс").await, chat);

    let mut student_ws = student.socket(&app, json!([])).await;
    assert!(student_ws.until("ready").await["chats"].as_array().unwrap().contains(&json!(chat)));
    let mut teacher_ws = teacher.socket(&app, json!([])).await;
    teacher_ws.until("ready").await;
    teacher_ws
        .send(json!({"type": "send", "chat": chat, "client_id": "t-1", "text": "Завтра экскурсия в музей"}))
        .await;
    let ack = teacher_ws.until("ack").await;
    assert_eq!((ack["client_id"].as_str(), ack["duplicate"].as_bool()), (Some("t-1"), Some(false)));

    let event = student_ws.until("event").await;
    assert_eq!(event["chat"], chat);
    assert_eq!(event["seq"], ack["seq"]);
    assert_eq!(event["event"]["kind"], "message");
    assert_eq!(event["event"]["message"]["text"], "Завтра экскурсия в музей");
    assert_eq!(event["event"]["message"]["author"]["name"], "Учителева Ольга");
    assert!(event["event"]["message"].get("client_id").is_none(), "the sender's key stays with the sender");

    let summary = student.json(&app, &format!("/api/messenger/chats/{chat}")).await;
    assert_eq!(
        (summary["unread"].as_i64(), summary["last_message"]["preview"].as_str()),
        (Some(1), Some("Завтра экскурсия в музей"))
    );
    student_ws.send(json!({"type": "read", "chat": chat, "seq": ack["seq"]})).await;
    let read = teacher_ws.until("read").await;
    assert_eq!((read["person"].as_i64(), read["seq"].clone()), (Some(student.person), ack["seq"].clone()));
    let summary = student.json(&app, &format!("/api/messenger/chats/{chat}")).await;
    assert_eq!(summary["unread"], 0);
    let summary = teacher.json(&app, &format!("/api/messenger/chats/{chat}")).await;
    assert_eq!(summary["others_read_seq"], ack["seq"], "✓✓: somebody else read it");
    app.finish().await;
}

/// A sender waits for the disk, not for the fan-out of its own message: on
/// its socket the ack of each send comes before that message's event.
#[tokio::test]
async fn a_senders_ack_comes_before_the_event_of_its_own_message() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut ws = teacher.socket(&app, json!([])).await;
    ws.until("ready").await;
    for n in 0..20 {
        ws.send(
            json!({"type": "send", "chat": chat, "client_id": format!("order-{n}"), "text": format!("Сообщение {n}")}),
        )
        .await;
    }
    let mut acked = std::collections::HashSet::new();
    while acked.len() < 20 {
        let frame = ws.next().await.expect("the socket stays open");
        match frame["type"].as_str() {
            Some("ack") => {
                acked.insert(frame["seq"].as_i64().unwrap());
            }
            Some("event") => {
                let seq = frame["seq"].as_i64().unwrap();
                assert!(acked.contains(&seq), "the event of seq {seq} came before its ack");
            }
            _ => {}
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn the_same_send_retried_three_times_makes_one_message() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut acks = Vec::new();
    for _ in 0..3 {
        let res = teacher.send(&app, chat, "retry-me", "Родительское собрание в четверг").await;
        assert_eq!(res.status(), StatusCode::OK);
        acks.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(acks[0]["duplicate"], false);
    assert!(acks[1..].iter().all(|a| a["duplicate"] == true && a["message_id"] == acks[0]["message_id"]));
    let mut ws = teacher.socket(&app, json!([])).await;
    ws.until("ready").await;
    ws.send(json!({"type": "send", "chat": chat, "client_id": "retry-me", "text": "Родительское собрание в четверг"}))
        .await;
    let ack = ws.until("ack").await;
    assert_eq!((ack["duplicate"].as_bool(), ack["message_id"].clone()), (Some(true), acks[0]["message_id"].clone()));
    let page = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["messages"][0]["client_id"], "retry-me", "the author sees their own key");
    app.finish().await;
}

#[tokio::test]
async fn a_client_offline_while_100_messages_arrive_receives_exactly_those_100_on_resume() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    teacher.send(&app, chat, "before", "Это вы уже видели").await;
    let seen = student.json(&app, &format!("/api/messenger/chats/{chat}")).await["last_seq"].as_i64().unwrap();

    for i in 0..100 {
        let res = teacher.send(&app, chat, &format!("m-{i}"), &format!("Сообщение {i}")).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let mut ws = student.socket(&app, json!([{"chat": chat, "seq": seen}])).await;
    let mut seqs = Vec::new();
    loop {
        let frame = ws.next().await.expect("the replay ends with ready");
        match frame["type"].as_str().unwrap() {
            "event" => {
                assert_eq!(frame["event"]["message"]["text"], format!("Сообщение {}", seqs.len()));
                seqs.push(frame["seq"].as_i64().unwrap());
            }
            "ready" => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(seqs, ((seen + 1)..=(seen + 100)).collect::<Vec<_>>(), "no gaps, no duplicates");
    // Live from here on, still exactly once.
    teacher.send(&app, chat, "after", "Последнее").await;
    let live = ws.until("event").await;
    assert_eq!(live["seq"], seen + 101);
    assert!(ws.next().await.is_none(), "nothing is sent twice");
    app.finish().await;
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_reload_instead_of_replayed() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    for i in 0..1001 {
        teacher.send(&app, chat, &format!("m-{i}"), "Много сообщений").await;
    }
    let mut ws = teacher.socket(&app, json!([{"chat": chat, "seq": 0}])).await;
    assert_eq!(ws.next().await.unwrap(), json!({"type": "resync", "chat": chat}));
    assert_eq!(ws.next().await.unwrap()["type"], "ready");
    let page = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages?limit=100")).await;
    assert_eq!((page["messages"].as_array().unwrap().len(), page["has_more"].as_bool()), (100, Some(true)));
    let oldest = page["messages"][0]["seq"].as_i64().unwrap();
    let older = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages?before={oldest}&limit=100")).await;
    assert_eq!(older["messages"][99]["seq"].as_i64().unwrap(), oldest - 1, "pages meet without a gap");
    app.finish().await;
}

#[tokio::test]
async fn replies_edits_deletes_and_reactions_reach_the_other_member_and_deleted_words_are_gone() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let first: Value = teacher.send(&app, chat, "q", "Кто идёт на олимпиаду?").await.json().await.unwrap();
    let id = first["message_id"].as_i64().unwrap();
    let mut teacher_ws = teacher.socket(&app, json!([{"chat": chat, "seq": first["seq"]}])).await;
    teacher_ws.until("ready").await;

    let reply = student
        .post(
            &app,
            &format!("/api/messenger/chats/{chat}/messages"),
            json!({"client_id": "r", "text": "Я иду", "reply_to": id}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::OK);
    let event = teacher_ws.until("event").await;
    assert_eq!(event["event"]["message"]["reply_to"]["preview"], "Кто идёт на олимпиаду?");
    let reply_id = event["event"]["message"]["id"].as_i64().unwrap();

    let path = format!("/api/messenger/chats/{chat}/messages/{reply_id}/reactions/{}", urlencode("👍"));
    assert_eq!(teacher.request(&app, Method::PUT, &path, None).await.status(), StatusCode::NO_CONTENT);
    let reaction = teacher_ws.until("event").await;
    assert_eq!(
        reaction["event"],
        json!({"kind": "reaction_added", "message_id": reply_id, "person": teacher.person, "emoji": "👍"})
    );
    let bad = format!("/api/messenger/chats/{chat}/messages/{reply_id}/reactions/{}", urlencode("💩"));
    assert_eq!(error_code(teacher.request(&app, Method::PUT, &bad, None).await).await.1, "unknown_reaction");

    let edit = format!("/api/messenger/chats/{chat}/messages/{reply_id}");
    let res = teacher.request(&app, Method::PATCH, &edit, Some(json!({"text": "Нельзя"}))).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_author".into()), "nobody edits another's words");
    let res = student.request(&app, Method::PATCH, &edit, Some(json!({"text": "Я иду, и Иван тоже секрет"}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let edited = teacher_ws.until("event").await;
    assert_eq!(edited["event"]["kind"], "edited");
    assert_eq!(edited["event"]["text"], "Я иду, и Иван тоже секрет");

    // The class teacher is the chat's admin: they may delete any message.
    let res = teacher.request(&app, Method::DELETE, &edit, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(teacher_ws.until("event").await["event"], json!({"kind": "deleted", "message_id": reply_id}));
    let res = student.request(&app, Method::DELETE, &edit, None).await;
    assert_eq!(error_code(res).await.1, "already_deleted");

    let page = student.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let tombstone = &page["messages"][1];
    assert_eq!((tombstone["deleted"].as_bool(), tombstone["text"].as_str()), (Some(true), Some("")));
    assert_eq!(tombstone["reactions"], json!([]));
    let mut replay = student.socket(&app, json!([{"chat": chat, "seq": 0}])).await;
    let mut everything = String::new();
    while let Some(frame) = replay.next().await {
        everything.push_str(&frame.to_string());
    }
    assert!(everything.contains("Кто идёт"), "the replay carries the chat");
    assert!(!everything.contains("секрет") && !everything.contains("Я иду"), "deleted words are gone: {everything}");
    app.finish().await;
}

#[tokio::test]
async fn people_outside_a_chat_get_404_for_its_content_and_actions() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let msg: Value = teacher.send(&app, chat, "x", "Только для класса").await.json().await.unwrap();
    let id = &msg["message_id"];
    let paths = [
        format!("/api/messenger/chats/{chat}"),
        format!("/api/messenger/chats/{chat}/messages"),
        format!("/api/messenger/chats/{chat}/members"),
        format!("/api/messenger/chats/{chat}/pins"),
    ];
    for path in &paths {
        assert_eq!(
            error_code(parent.get(&app, path).await).await,
            (StatusCode::NOT_FOUND, "not_found".into()),
            "{path}"
        );
    }
    let res = parent.send(&app, chat, "y", "Можно к вам?").await;
    assert_eq!(error_code(res).await.1, "not_found");
    let res = parent.request(&app, Method::DELETE, &format!("/api/messenger/chats/{chat}/messages/{id}"), None).await;
    assert_eq!(error_code(res).await.1, "not_found");
    let res = parent.post(&app, &format!("/api/messenger/chats/{chat}/read"), json!({"seq": 1})).await;
    assert_eq!(error_code(res).await.1, "not_found");
    // Nor does a socket deliver it.
    let mut ws = parent.socket(&app, json!([{"chat": chat, "seq": 0}])).await;
    let ready = ws.until("ready").await;
    assert!(!ready["chats"].as_array().unwrap().contains(&json!(chat)));
    teacher.send(&app, chat, "z", "Ещё одно").await;
    assert!(ws.next().await.is_none(), "{}", "nothing of a foreign chat arrives");
    let res = reqwest::Client::new().get(app.url("/api/messenger/chats")).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "unauthenticated");
    app.finish().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let cases = [
        (json!({"client_id": "a", "text": "   "}), "message_empty"),
        (json!({"client_id": "a", "text": "я".repeat(10_001)}), "message_too_long"),
        (json!({"client_id": "a", "text": "звонок\u{7}"}), "message_control_character"),
        (json!({"client_id": "../../etc", "text": "привет"}), "invalid_client_id"),
        (json!({"client_id": "", "text": "привет"}), "invalid_client_id"),
        (json!({"client_id": "a", "text": "привет", "reply_to": 999_999}), "reply_outside_chat"),
        (json!({"text": "без ключа"}), "invalid_input"),
    ];
    for (body, code) in cases {
        let res = teacher.post(&app, &format!("/api/messenger/chats/{chat}/messages"), body).await;
        assert_eq!(error_code(res).await.1, code);
    }
    let res = teacher.get(&app, &format!("/api/messenger/chats/{chat}/messages?limit=1000")).await;
    assert_eq!(error_code(res).await.1, "invalid_input");
    let page = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    assert_eq!((page["messages"].as_array().unwrap().len(), page["last_seq"].as_i64()), (0, Some(0)));
    let mut ws = teacher.socket(&app, json!([])).await;
    ws.until("ready").await;
    ws.send(json!({"type": "send", "chat": chat, "client_id": "w", "text": ""})).await;
    let error = ws.until("error").await;
    assert_eq!((error["client_id"].as_str(), error["code"].as_str()), (Some("w"), Some("message_empty")));
    ws.send(json!({"type": "launch_rockets"})).await;
    assert_eq!(ws.until("error").await["code"], "invalid_input");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.until("pong").await["type"], "pong", "the socket survives bad frames");
    app.finish().await;
}

#[tokio::test]
async fn an_announcement_only_chat_refuses_a_students_post_with_a_clear_message() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let settings = json!({"announcement_only": true});
    let res =
        student.request(&app, Method::PATCH, &format!("/api/messenger/chats/{chat}"), Some(settings.clone())).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()));
    let mut student_ws = student.socket(&app, json!([])).await;
    student_ws.until("ready").await;
    let res = teacher.request(&app, Method::PATCH, &format!("/api/messenger/chats/{chat}"), Some(settings)).await;
    assert_eq!(res.status(), StatusCode::OK);
    student_ws.until("chats_changed").await;
    assert_eq!(student.json(&app, &format!("/api/messenger/chats/{chat}")).await["announcement_only"], true);
    let res = student.send(&app, chat, "s", "Можно вопрос?").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "announcement_only");
    assert_eq!(body["message"], "Писать в этот чат могут только администраторы чата.");
    assert_eq!(teacher.send(&app, chat, "t", "Объявление").await.status(), StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn direct_messages_follow_the_schools_policy() {
    let app = spawn_app(false).await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let ivan = linked(&app, "student2", "+79120000004").await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let org = alyona.org;
    let misha: i64 = app.db.store.credentials("student3").await.unwrap().unwrap().person_id.into();
    let direct = |person: i64| json!({"org": org, "person": person});

    let res = alyona.post(&app, "/api/messenger/direct", direct(misha)).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "direct_forbidden".into()), "another class's student");
    let res = alyona.post(&app, "/api/messenger/direct", direct(alyona.person)).await;
    assert_eq!(error_code(res).await.1, "direct_self");
    let res = alyona.post(&app, "/api/messenger/direct", direct(teacher.person)).await;
    assert_eq!(res.status(), StatusCode::OK, "a student may write to staff");

    let mut ivan_ws = ivan.socket(&app, json!([])).await;
    ivan_ws.until("ready").await;
    let res = alyona.post(&app, "/api/messenger/direct", direct(ivan.person)).await;
    let chat: Value = res.json().await.unwrap();
    assert_eq!((chat["kind"].as_str(), chat["name"].as_str()), (Some("direct"), Some("Королёв Иван")));
    ivan_ws.until("chats_changed").await;
    let again: Value = alyona.post(&app, "/api/messenger/direct", direct(ivan.person)).await.json().await.unwrap();
    assert_eq!(again["id"], chat["id"], "one direct chat per pair");
    assert_eq!(ivan.chat_named(&app, "Королёва Алёна").await, chat["id"].as_i64().unwrap());

    // The director forbids students' direct messages to each other.
    let director = app.signed_in("director").await;
    let policy = json!([{"from": "student", "to": "student", "rule": "never"}]);
    let res = director.put(app.url(&format!("/api/orgs/{org}/dm-policy"))).json(&policy).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let teacher_portal = &teacher.portal;
    let res = teacher_portal.put(app.url(&format!("/api/orgs/{org}/dm-policy"))).json(&policy).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "only administrators set the rules");
    let res = ivan.post(&app, "/api/messenger/direct", direct(alyona.person)).await;
    assert_eq!(error_code(res).await.1, "direct_forbidden");
    app.finish().await;
}

#[tokio::test]
async fn unlinking_closes_the_messenger_that_came_from_the_link_and_its_chats() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let mut ws = teacher.socket(&app, json!([])).await;
    ws.until("ready").await;
    let res = teacher.portal.delete(app.url(&format!("/api/chats/{}/link", teacher.org))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ws.until("bye").await, json!({"type": "bye", "reason": "session_ended", "resume": false}));
    let res = teacher.get(&app, "/api/messenger/chats").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn the_members_list_shows_roles_and_who_is_online_but_no_phone_numbers() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut ws = student.socket(&app, json!([])).await;
    ws.until("ready").await;
    let members = teacher.json(&app, &format!("/api/messenger/chats/{chat}/members")).await;
    let text = members.to_string();
    assert!(!text.contains("7912"), "no phone numbers: {text}");
    let find = |person: i64| members.as_array().unwrap().iter().find(|m| m["person"] == person).unwrap().clone();
    let (t, s) = (find(teacher.person), find(student.person));
    assert_eq!(
        (t["role"].as_str(), t["admin"].as_bool(), t["online"].as_bool()),
        (Some("teacher"), Some(true), Some(false))
    );
    assert_eq!(
        (s["role"].as_str(), s["admin"].as_bool(), s["online"].as_bool()),
        (Some("student"), Some(false), Some(true))
    );
    app.finish().await;
}

/// Several nodes publish one chat's events, so they can arrive out of order:
/// an event after a gap waits a moment for the missing one, and one that never
/// comes is read from the database. Each event reaches the socket once, in order.
#[tokio::test]
async fn events_that_arrive_out_of_order_reach_the_socket_in_order_and_once() {
    use server::messenger::bus::BusMessage;
    use server::messenger::protocol::ServerFrame;
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let first: Value = teacher.send(&app, chat, "draft", "Черновик").await.json().await.unwrap();
    let message = first["message_id"].as_i64().unwrap();
    let account = app.db.store.link_of(teacher.org, teacher.person).await.unwrap().unwrap().account_id;
    let mut ws = student.socket(&app, json!([{"chat": chat, "seq": first["seq"]}])).await;
    ws.until("ready").await;
    // Edits committed but not yet published, as if made on other nodes.
    let edit = async |text: &str| {
        let action = storage::MessageAction::Edit(messenger::MessageText::parse(text).unwrap());
        app.db.store.act_on_message(account, chat, message, &action, app.state.now()).await.unwrap().unwrap()
    };
    let publish = |event: storage::EventView| {
        let (seq, frame) = (Some(event.seq), ServerFrame::event(event).to_json().into());
        app.state.messenger.hub.deliver(&BusMessage::Chat { chat, seq, frame });
    };
    let seqs = async |ws: &mut common::chat::Socket, n: usize| {
        let mut seen = Vec::new();
        while seen.len() < n {
            seen.push(ws.until("event").await["seq"].as_i64().unwrap());
        }
        seen
    };

    let (second, third) = (edit("Вторая версия").await, edit("Третья версия").await);
    publish(third.clone());
    tokio::time::sleep(Duration::from_millis(20)).await;
    publish(second.clone());
    assert_eq!(seqs(&mut ws, 2).await, [second.seq, third.seq], "the late one first");

    let (fourth, fifth) = (edit("Четвёртая версия").await, edit("Пятая версия").await);
    publish(fifth.clone());
    assert_eq!(seqs(&mut ws, 2).await, [fourth.seq, fifth.seq], "the one never published, from the database");
    publish(fourth);
    assert!(ws.next().await.is_none(), "nothing twice");
    app.finish().await;
}
