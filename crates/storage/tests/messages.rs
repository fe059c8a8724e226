//! The messenger's storage against a real database (SQLite, or PostgreSQL
//! with `PARTA_TEST_POSTGRES`): batches, sequence numbers, the event log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger::{ClientId, MessageText};
use storage::{Change, NewMessage, StorageError, Store};
use testkit::fixture::school_with_linked_class_teacher;
use testkit::fresh_db;

const NOW: i64 = 1_800_000_000;

/// The fixture school reconciled, with its 5А class teacher linked; returns
/// (org, the teacher's account, the 5А class chat).
async fn setup(store: &Store) -> (i64, i64, i64) {
    let (org, _, account) = school_with_linked_class_teacher(store, NOW).await;
    store.reconcile(roster::ids::OrgId(org), storage::Run::Apply, NOW).await.unwrap();
    let chat = store.messenger_chats(account).await.unwrap().into_iter().find(|c| c.name == "5А класс").unwrap().id;
    (org, account, chat)
}

fn message(chat: i64, account: i64, client_id: &str, text: &str) -> NewMessage {
    NewMessage {
        chat_id: chat,
        account_id: account,
        client_id: ClientId::parse(client_id).unwrap(),
        text: MessageText::parse(text).unwrap(),
        reply_to: None,
        mentions: vec![],
        attachments: vec![],
        poll: None,
        consent: None,
        urgent: false,
        now: NOW,
    }
}

#[tokio::test]
async fn a_batch_numbers_its_messages_in_order_and_a_retry_inside_it_is_the_same_message() {
    let db = fresh_db().await;
    let (_, account, chat) = setup(&db.store).await;
    let batch = [
        message(chat, account, "a", "Первое"),
        message(chat, account, "b", "Второе"),
        message(chat, account, "a", "Первое"),
        message(chat + 1000, account, "c", "В чужой чат"),
        message(chat, account, "d", "Третье"),
    ];
    let verdicts = db.store.append_messages(&batch).await.unwrap();
    let ok: Vec<_> = verdicts.iter().map(|v| v.as_ref().ok().map(|c| (c.seq, c.duplicate))).collect();
    assert_eq!(ok, [Some((1, false)), Some((2, false)), Some((1, true)), None, Some((3, false))]);
    assert!(matches!(verdicts[3], Err(StorageError::NotFound)), "a chat one is not in is not found");
    let first = verdicts[0].as_ref().unwrap();
    assert_eq!(verdicts[2].as_ref().unwrap().message_id, first.message_id);
    assert_eq!(first.message.author.name, "Учителева Ольга");

    // The next batch continues the sequence, and repeats are found in the database.
    let again =
        db.store.append_messages(&[message(chat, account, "b", "Второе"), message(chat, account, "e", "Ещё")]).await;
    let again: Vec<_> = again.unwrap().into_iter().map(|v| v.map(|c| (c.seq, c.duplicate)).unwrap()).collect();
    assert_eq!(again, [(2, true), (4, false)]);

    let events = db.store.chat_events_after(chat, 0, 100).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "one event per message, no gaps");
    let texts: Vec<String> = events
        .into_iter()
        .map(|e| match e.change {
            Change::Message(m) => m.text,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["Первое", "Второе", "Третье", "Ещё"]);
    let summary = db.store.messenger_chat(account, chat).await.unwrap();
    assert_eq!((summary.last_seq, summary.last_message.unwrap().preview), (4, "Ещё".to_string()));
    db.finish().await;
}

#[tokio::test]
async fn a_batch_of_more_messages_than_one_insert_takes_is_written_whole() {
    let db = fresh_db().await;
    let (_, account, chat) = setup(&db.store).await;
    let batch: Vec<_> =
        (0..1200).map(|i| message(chat, account, &format!("m{i}"), &format!("Сообщение {i}"))).collect();
    let verdicts = db.store.append_messages(&batch).await.unwrap();
    let seqs: Vec<i64> = verdicts.into_iter().map(|v| v.unwrap().seq).collect();
    assert_eq!(seqs, (1..=1200).collect::<Vec<_>>());
    let page = db.store.history(account, chat, storage::HistoryRange::Before { seq: None, limit: 100 }).await.unwrap();
    assert_eq!((page.messages.len(), page.last_seq, page.has_more), (100, 1200, true));
    assert_eq!(page.messages[99].text, "Сообщение 1199");
    db.finish().await;
}
