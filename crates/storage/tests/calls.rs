//! Call records against a real database (SQLite, or PostgreSQL with
//! `PARTA_TEST_POSTGRES`): a call's rows, and the record message a finished
//! call leaves wherever the chat's messages are read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger::call::{CallKind, CallOutcome};
use roster::PersonName;
use storage::{CallRecord, Change, EventView, HistoryRange, MessageAction, MessageView, NewLink, PeopleFilter, Store};
use testkit::fixture::school_with_linked_class_teacher;
use testkit::fresh_db;

const NOW: i64 = 1_800_000_000;
const NODE: &str = "node-a";

struct School {
    org: i64,
    /// Учителева Ольга, class teacher of 5А: her person and Parta ID.
    teacher: i64,
    account: i64,
    /// Королёва Алёна and Королёв Иван, students of 5А.
    alena: i64,
    ivan: i64,
    /// The 5А class chat.
    class_chat: i64,
}

async fn person(store: &Store, org: i64, q: &str) -> i64 {
    let filter = PeopleFilter { query: Some(q.into()), limit: 5, ..PeopleFilter::default() };
    store.people(roster::ids::OrgId(org), &filter).await.unwrap()[0].id.into()
}

async fn setup(store: &Store) -> School {
    let (org, teacher, account) = school_with_linked_class_teacher(store, NOW).await;
    store.reconcile(roster::ids::OrgId(org), storage::Run::Apply, NOW).await.unwrap();
    let class_chat =
        store.messenger_chats(account).await.unwrap().into_iter().find(|c| c.name == "5А класс").unwrap().id;
    let alena = person(store, org, "Алёна").await;
    let ivan = person(store, org, "Иван").await;
    School { org, teacher, account, alena, ivan, class_chat }
}

/// The direct chat between the teacher and Алёна (linked for it).
async fn direct_chat(store: &Store, s: &School) -> i64 {
    store.create_proof("proof-alena", "+79120000002", NOW + 900).await.unwrap();
    let about = PersonName::parse("Королёва", "Алёна", None).unwrap();
    let link = NewLink {
        org_id: s.org,
        person_id: s.alena,
        proof_hash: "proof-alena".into(),
        target: storage::LinkAs::New(about),
    };
    store.link_profile(&link, NOW).await.unwrap();
    store.direct_chat(s.account, s.org, s.alena, NOW).await.unwrap()
}

fn recorded(event: &EventView) -> (&MessageView, &CallRecord) {
    match &event.change {
        Change::Message(m) => (m, m.call.as_ref().expect("a call record")),
        other => panic!("not a message: {other:?}"),
    }
}

fn people(record: &CallRecord) -> Vec<i64> {
    record.participants.iter().map(|p| p.person).collect()
}

async fn messages(store: &Store, account: i64, chat: i64) -> Vec<MessageView> {
    store.history(account, chat, HistoryRange::Before { seq: None, limit: 50 }).await.unwrap().messages
}

/// `sql`'s count (no parameters).
async fn count(url: &str, sql: &str) -> i64 {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

#[tokio::test]
async fn finishing_a_call_writes_one_record_message_with_its_outcome_duration_and_participants() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let last_seq = store.messenger_chat(s.account, s.class_chat).await.unwrap().last_seq;

    let call = store.start_call(s.class_chat, s.teacher, CallKind::Video, NODE, NOW).await.unwrap();
    assert_eq!(store.call_chat(call).await.unwrap(), Some((s.class_chat, false)));
    store.call_joined(call, s.ivan, NOW + 5).await.unwrap();
    store.call_joined(call, s.alena, NOW + 8).await.unwrap();
    store.call_left(call, s.ivan, NOW + 20).await.unwrap();
    // A rejoin keeps Иван's first place.
    store.call_joined(call, s.ivan, NOW + 30).await.unwrap();
    assert!(messages(store, s.account, s.class_chat).await.is_empty(), "no record while it is live");

    let event = store.finish_call(call, CallOutcome::Finished, NOW + 340).await.unwrap().unwrap();
    assert_eq!((event.chat_id, event.seq, event.at), (s.class_chat, last_seq + 1, NOW + 340));
    let (message, record) = recorded(&event);
    assert_eq!((message.author.person, message.author.name.as_str()), (s.teacher, "Учителева Ольга"));
    assert_eq!((message.text.as_str(), message.seq, message.created_at), ("", last_seq + 1, NOW + 340));
    assert_eq!((record.id, record.kind.as_str(), record.outcome.as_str()), (call, "video", "finished"));
    assert_eq!(
        (record.started_at, record.ended_at, record.duration),
        (NOW, NOW + 340, 340),
        "a group call counts from its start"
    );
    assert_eq!(people(record), [s.teacher, s.ivan, s.alena], "in the order they first joined");
    assert_eq!(record.participants[1].name, "Королёв Иван");

    let history = messages(store, s.account, s.class_chat).await;
    assert_eq!(history.len(), 1, "exactly one record message");
    assert_eq!(&history[0].call, &message.call);
    assert_eq!(store.messenger_chat(s.account, s.class_chat).await.unwrap().last_seq, last_seq + 1);
    assert_eq!(store.call_chat(call).await.unwrap(), Some((s.class_chat, true)));
    // Its client id is one no client can send, so no send takes it first.
    let client_id = format!("call:{call}");
    let sql = format!("SELECT COUNT(*) FROM messages WHERE client_id = '{client_id}' AND call_id = {call}");
    assert_eq!(count(&db.url, &sql).await, 1);
    assert!(messenger::ClientId::parse(&client_id).is_err());
    db.finish().await;
}

#[tokio::test]
async fn finishing_a_call_twice_writes_its_record_once() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let call = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW).await.unwrap();
    let first = store.finish_call(call, CallOutcome::EndedByModerator, NOW + 10).await.unwrap().unwrap();
    assert_eq!(store.finish_call(call, CallOutcome::ServerRestart, NOW + 20).await.unwrap(), None);

    let history = messages(store, s.account, s.class_chat).await;
    assert_eq!(history.len(), 1);
    let record = history[0].call.as_ref().unwrap();
    assert_eq!((record.outcome.as_str(), record.ended_at), ("ended_by_moderator", NOW + 10), "the first finish stands");
    assert_eq!(store.messenger_chat(s.account, s.class_chat).await.unwrap().last_seq, first.seq, "no second event");
    assert!(matches!(
        store.finish_call(call + 1000, CallOutcome::Finished, NOW).await,
        Err(storage::StorageError::NotFound)
    ));
    db.finish().await;
}

#[tokio::test]
async fn the_record_is_in_history_the_event_replay_the_chat_list_and_the_pins() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let text = storage::NewMessage {
        chat_id: s.class_chat,
        account_id: s.account,
        client_id: messenger::ClientId::parse("before").unwrap(),
        text: messenger::MessageText::parse("Созвонимся в семь").unwrap(),
        reply_to: None,
        mentions: vec![],
        attachments: vec![],
        poll: None,
        consent: None,
        urgent: false,
        now: NOW,
    };
    assert!(store.append_messages(&[text]).await.unwrap()[0].is_ok());
    let call = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW + 1).await.unwrap();
    store.call_joined(call, s.alena, NOW + 2).await.unwrap();
    let event = store.finish_call(call, CallOutcome::Finished, NOW + 62).await.unwrap().unwrap();
    let (message, record) = recorded(&event);

    // History: the text message carries no call, the record does.
    let history = messages(store, s.account, s.class_chat).await;
    assert_eq!(history.iter().map(|m| m.call.as_ref()).collect::<Vec<_>>(), [None, Some(record)]);

    // The replay a reconnecting client gets is the event the server published.
    let replay = store.chat_events_after(s.class_chat, event.seq - 1, 10).await.unwrap();
    assert_eq!(replay, std::slice::from_ref(&event));

    // The chat list previews it as the last message.
    let summary = store.messenger_chat(s.account, s.class_chat).await.unwrap();
    let last = summary.last_message.unwrap();
    assert_eq!((last.id, last.preview.as_str(), last.call.as_ref()), (message.id, "", Some(record)));
    let listed = store.messenger_chats(s.account).await.unwrap();
    let listed = listed.into_iter().find(|c| c.id == s.class_chat).unwrap().last_message.unwrap();
    assert_eq!(listed.call.as_ref(), Some(record));

    // Pinned, it still shows the call.
    store.act_on_message(s.account, s.class_chat, message.id, &MessageAction::Pin, NOW + 70).await.unwrap();
    let pinned = store.pinned_messages(s.account, s.class_chat).await.unwrap();
    assert_eq!(pinned.iter().map(|m| m.call.as_ref()).collect::<Vec<_>>(), [Some(record)]);
    db.finish().await;
}

#[tokio::test]
async fn a_deleted_record_is_a_tombstone_without_its_call() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let call = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW).await.unwrap();
    let event = store.finish_call(call, CallOutcome::Finished, NOW + 5).await.unwrap().unwrap();
    let (message, _) = recorded(&event);
    store.act_on_message(s.account, s.class_chat, message.id, &MessageAction::Delete, NOW + 6).await.unwrap();
    let history = messages(store, s.account, s.class_chat).await;
    assert!(history[0].deleted);
    assert_eq!(history[0].call, None);
    let last = store.messenger_chat(s.account, s.class_chat).await.unwrap().last_message.unwrap();
    assert_eq!(last.call, None);
    db.finish().await;
}

#[tokio::test]
async fn a_direct_call_nobody_answered_is_missed_with_no_duration() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let chat = direct_chat(store, &s).await;
    let call = store.start_call(chat, s.teacher, CallKind::Video, NODE, NOW).await.unwrap();
    // The caller rejoining (a reconnect) does not answer their own call.
    store.call_left(call, s.teacher, NOW + 10).await.unwrap();
    store.call_joined(call, s.teacher, NOW + 12).await.unwrap();
    let event = store.finish_call(call, CallOutcome::Missed, NOW + 45).await.unwrap().unwrap();
    let (message, record) = recorded(&event);
    assert_eq!(message.chat, chat);
    assert_eq!((record.outcome.as_str(), record.duration, record.ended_at), ("missed", 0, NOW + 45));
    assert_eq!(people(record), [s.teacher]);
    db.finish().await;
}

#[tokio::test]
async fn an_answered_direct_call_counts_its_duration_from_the_answer() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let chat = direct_chat(store, &s).await;
    let call = store.start_call(chat, s.teacher, CallKind::Audio, NODE, NOW).await.unwrap();
    store.call_joined(call, s.alena, NOW + 15).await.unwrap();
    // A later rejoin does not move the answer.
    store.call_left(call, s.alena, NOW + 30).await.unwrap();
    store.call_joined(call, s.alena, NOW + 40).await.unwrap();
    let event = store.finish_call(call, CallOutcome::Finished, NOW + 75).await.unwrap().unwrap();
    let (_, record) = recorded(&event);
    assert_eq!((record.outcome.as_str(), record.duration), ("finished", 60));
    assert_eq!(people(record), [s.teacher, s.alena]);
    db.finish().await;
}

#[tokio::test]
async fn unfinished_calls_lists_the_unfinished_calls_of_one_node_or_of_every_node() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let chats = store.messenger_chats(s.account).await.unwrap();
    let other_chat = chats.iter().find(|c| c.id != s.class_chat).unwrap().id;
    let direct = direct_chat(store, &s).await;
    let done = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW).await.unwrap();
    store.finish_call(done, CallOutcome::Finished, NOW + 5).await.unwrap();
    let live = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW + 6).await.unwrap();
    let elsewhere = store.start_call(other_chat, s.teacher, CallKind::Video, "node-b", NOW).await.unwrap();
    let later = store.start_call(direct, s.teacher, CallKind::Video, NODE, NOW + 7).await.unwrap();
    assert_eq!(store.unfinished_calls(Some(NODE)).await.unwrap(), [live, later]);
    assert_eq!(store.unfinished_calls(Some("node-b")).await.unwrap(), [elsewhere]);
    assert!(store.unfinished_calls(Some("node-c")).await.unwrap().is_empty());
    assert_eq!(store.unfinished_calls(None).await.unwrap(), [live, elsewhere, later], "a single node ends them all");
    // What a node does at start-up: each ends as a server restart.
    for call in store.unfinished_calls(Some(NODE)).await.unwrap() {
        let event = store.finish_call(call, CallOutcome::ServerRestart, NOW + 9).await.unwrap().unwrap();
        assert_eq!(recorded(&event).1.outcome, "server_restart");
    }
    assert!(store.unfinished_calls(Some(NODE)).await.unwrap().is_empty());
    db.finish().await;
}

/// Two nodes starting a call in one chat at the same instant: one call
/// starts, the other node is told where it lives (and joins it there).
#[tokio::test]
async fn a_chat_has_one_live_call_and_a_second_start_learns_which_node_hosts_it() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let (a, b) = tokio::join!(
        store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW),
        store.start_call(s.class_chat, s.alena, CallKind::Video, "node-b", NOW),
    );
    let (call, host) = match (a, b) {
        (Ok(call), Err(storage::StorageError::CallLive { node })) => (call, (node, NODE)),
        (Err(storage::StorageError::CallLive { node }), Ok(call)) => (call, (node, "node-b")),
        other => panic!("exactly one start succeeds: {other:?}"),
    };
    assert_eq!(host.0, host.1, "the refused start names the winner's node");
    assert_eq!(store.live_calls_in(&[s.class_chat]).await.unwrap().len(), 1);
    // Once it is over the chat can have a new one.
    store.finish_call(call, CallOutcome::Finished, NOW + 5).await.unwrap();
    store.start_call(s.class_chat, s.alena, CallKind::Audio, "node-b", NOW + 6).await.unwrap();
    db.finish().await;
}

#[tokio::test]
async fn joining_or_leaving_a_finished_call_changes_nothing_and_an_unknown_call_is_not_found() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let call = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW).await.unwrap();
    store.finish_call(call, CallOutcome::Finished, NOW + 10).await.unwrap();
    store.call_joined(call, s.alena, NOW + 11).await.unwrap();
    store.call_left(call, s.teacher, NOW + 12).await.unwrap();
    let record = messages(store, s.account, s.class_chat).await[0].call.clone().unwrap();
    assert_eq!(people(&record), [s.teacher]);
    let left: i64 = count(&db.url, "SELECT MAX(last_left_at) FROM call_participants").await;
    assert_eq!(left, NOW + 10, "the finish took everyone out of it");
    let not_found = |r: Result<(), storage::StorageError>| matches!(r, Err(storage::StorageError::NotFound));
    assert!(not_found(store.call_joined(call + 1000, s.alena, NOW).await));
    assert!(matches!(
        store.start_call(s.class_chat + 1000, s.teacher, CallKind::Audio, NODE, NOW).await,
        Err(storage::StorageError::NotFound)
    ));
    assert_eq!(store.call_chat(call + 1000).await.unwrap(), None);
    db.finish().await;
}

#[tokio::test]
async fn a_call_record_puts_nothing_in_the_search_index() {
    let db = fresh_db().await;
    let s = setup(&db.store).await;
    let store = &db.store;
    let call = store.start_call(s.class_chat, s.teacher, CallKind::Audio, NODE, NOW).await.unwrap();
    store.finish_call(call, CallOutcome::Finished, NOW + 10).await.unwrap().unwrap();
    // The record is the database's only message.
    let index = if db.url.starts_with("sqlite:") {
        "SELECT COUNT(*) FROM message_fts"
    } else {
        "SELECT COUNT(*) FROM message_search"
    };
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(count(&db.url, index).await, 0);
    db.finish().await;
}
