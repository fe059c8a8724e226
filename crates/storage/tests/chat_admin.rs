//! Chat management's storage against a real database (SQLite, or PostgreSQL
//! with `PARTA_TEST_POSTGRES`): what a purge leaves behind, table by table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger::{ChatDescription, ChatName, ClientId, MessageText};
use roster::ids::{OrgId, PersonId};
use storage::{ChatDraft, NewMessage, PURGE_AFTER_SECS, Store};
use testkit::fixture::school_with_linked_class_teacher;
use testkit::fresh_db;

const NOW: i64 = 1_800_000_000;

async fn setup(store: &Store) -> (i64, i64, i64) {
    school_with_linked_class_teacher(store, NOW).await
}

/// `sql`'s count for the chat (bound as `$1`).
async fn rows(url: &str, sql: &str, chat: i64) -> i64 {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(sql).bind(chat).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(sql).bind(chat).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

#[tokio::test]
async fn a_purge_erases_a_deleted_chats_messages_members_log_calls_and_search_terms_and_keeps_its_audit() {
    let db = fresh_db().await;
    let store = &db.store;
    let (org, teacher, account) = setup(store).await;
    let draft = ChatDraft {
        name: ChatName::parse("Поездка в Казань").unwrap(),
        description: ChatDescription::parse("Сбор у школы").unwrap(),
        announcement_only: false,
        members: vec![],
    };
    let (org, person) = (OrgId(org), PersonId(teacher));
    let chat = store.create_custom_chat(org, person, &draft, NOW).await.unwrap().chat_id;
    let send = |client: &str, text: &str| NewMessage {
        chat_id: chat.into(),
        account_id: account,
        client_id: ClientId::parse(client).unwrap(),
        text: MessageText::parse(text).unwrap(),
        reply_to: None,
        mentions: vec![],
        attachments: vec![],
        poll: None,
        consent: None,
        urgent: false,
        now: NOW,
    };
    let first = store.append_messages(&[send("a", "Автобус отходит в восемь")]).await.unwrap();
    let first = first[0].as_ref().unwrap().message_id;
    let mut reply = send("b", "Успеем позавтракать");
    reply.reply_to = Some(first);
    assert!(store.append_messages(&[reply]).await.unwrap()[0].is_ok());
    let react = storage::MessageAction::React(messenger::Reaction::parse("👍").unwrap());
    store.act_on_message(account, chat.into(), first, &react, NOW).await.unwrap();
    let edit = storage::MessageAction::Edit(MessageText::parse("Автобус отходит в девять").unwrap());
    store.act_on_message(account, chat.into(), first, &edit, NOW).await.unwrap();
    // A call, finished: its rows and its record message.
    let call = store.start_call(chat.into(), teacher, messenger::call::CallKind::Audio, "node-a", NOW).await.unwrap();
    store.finish_call(call, messenger::call::CallOutcome::Finished, NOW).await.unwrap().unwrap();

    // Only this chat has messages in this database, so the whole index is its.
    let search = if db.url.starts_with("sqlite:") {
        "SELECT COUNT(*) FROM message_fts WHERE CAST($1 AS BIGINT) IS NOT NULL"
    } else {
        "SELECT COUNT(*) FROM message_search WHERE chat_id = $1"
    };
    let tables = [
        "SELECT COUNT(*) FROM messages WHERE chat_id = $1",
        "SELECT COUNT(*) FROM chat_events WHERE chat_id = $1",
        "SELECT COUNT(*) FROM chat_members WHERE chat_id = $1",
        "SELECT COUNT(*) FROM message_edits e JOIN messages m ON m.id = e.message_id WHERE m.chat_id = $1",
        "SELECT COUNT(*) FROM message_reactions r JOIN messages m ON m.id = r.message_id WHERE m.chat_id = $1",
        "SELECT COUNT(*) FROM chats WHERE id = $1 AND description <> ''",
        "SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND call_id IS NOT NULL",
        "SELECT COUNT(*) FROM calls WHERE chat_id = $1",
        // Only this chat has calls: every participant row is one of its calls'.
        "SELECT COUNT(*) FROM call_participants WHERE CAST($1 AS BIGINT) IS NOT NULL",
        search,
    ];

    // Deleted, it keeps everything until the purge: it can still be restored.
    store.delete_chat(org, person, chat, NOW).await.unwrap();
    assert!(store.purge_deleted_chats(NOW + PURGE_AFTER_SECS - 1).await.unwrap().is_empty());
    for sql in tables {
        assert!(rows(&db.url, sql, chat.into()).await > 0, "before the purge: {sql}");
    }
    assert_eq!(store.purge_deleted_chats(NOW + PURGE_AFTER_SECS).await.unwrap(), [(org, chat)]);
    assert!(store.purge_deleted_chats(NOW + PURGE_AFTER_SECS + 1).await.unwrap().is_empty(), "once");
    for sql in tables {
        assert_eq!(rows(&db.url, sql, chat.into()).await, 0, "after the purge: {sql}");
    }
    // What happened stays readable: the chat row and its audit, purge included.
    assert_eq!(
        rows(&db.url, "SELECT COUNT(*) FROM chats WHERE id = $1 AND purged_at IS NOT NULL", chat.into()).await,
        1
    );
    let audit =
        rows(&db.url, "SELECT COUNT(*) FROM chat_audit WHERE chat_id = $1 AND action = 'purge'", chat.into()).await;
    assert_eq!(audit, 1);
    db.finish().await;
}
