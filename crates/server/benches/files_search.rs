//! Files and search, measured (BENCHMARKS.md, "Files and search"):
//!
//! - search p50/p99 over `--messages` messages (10 million by default) in
//!   `--chats` chats (10,000) for a user in 30 of them, on SQLite, through the
//!   store and through HTTP;
//! - upload throughput of 100 MB files over HTTP on loopback, and of the blob
//!   store on the local disk;
//! - the time to strip and thumbnail a 12 MP photo.
//!
//! `cargo bench -p server --bench files_search -- [--messages N] [--chats N]
//! [--queries N] [--skip-search] [--skip-upload]`. Only loopback and local
//! files: the server is this process's, on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::chat::linked;
use common::spawn_app;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor, QueryBuilder, Sqlite, SqliteConnection};
use std::time::{Duration, Instant};
use storage::SearchFilter;

/// School words in several forms each, most common first (sampled with a
/// skew, so the first ones are in many messages and the last in few).
const WORDS: &[&[&str]] = &[
    &["урок", "урока", "уроки", "уроков", "уроке", "урокам"],
    &["завтра"],
    &["задание", "задания", "заданий", "заданию"],
    &["домашнее", "домашнего", "домашней"],
    &["класс", "класса", "классе", "классом"],
    &["родители", "родителей", "родителям"],
    &["пятница", "пятницу", "пятницы"],
    &["контрольная", "контрольной", "контрольную"],
    &["собрание", "собрания", "собранию"],
    &["учебник", "учебника", "учебники", "учебников"],
    &["тетрадь", "тетради", "тетрадей"],
    &["оценка", "оценки", "оценку", "оценок"],
    &["экскурсия", "экскурсии", "экскурсию", "экскурсий"],
    &["музей", "музея", "музее"],
    &["математика", "математике", "математику"],
    &["литература", "литературе", "литературы"],
    &["спортзал", "спортзале", "спортзала"],
    &["форма", "форму", "формы"],
    &["расписание", "расписания", "расписании"],
    &["каникулы", "каникул", "каникулах"],
    &["олимпиада", "олимпиаде", "олимпиаду"],
    &["диктант", "диктанта", "диктанте"],
    &["параграф", "параграфа", "параграфы"],
    &["презентация", "презентацию", "презентации"],
    &["праздник", "праздника", "празднике"],
    &["ёлка", "ёлку", "ёлке"],
    &["концерт", "концерта", "концерте"],
    &["библиотека", "библиотеку", "библиотеке"],
    &["проект", "проекта", "проекты"],
    &["химия", "химии", "химию"],
    &["физика", "физике", "физику"],
    &["биология", "биологии", "биологию"],
    &["география", "географии"],
    &["история", "истории", "историю"],
    &["прививка", "прививки", "прививку"],
    &["медосмотр", "медосмотра"],
    &["субботник", "субботника"],
    &["поход", "похода", "походе"],
    &["театр", "театра", "театре"],
    &["автобус", "автобуса", "автобусе"],
];
const FILLER: &[&str] = &[
    "в",
    "на",
    "и",
    "не",
    "что",
    "по",
    "с",
    "до",
    "после",
    "будет",
    "надо",
    "пожалуйста",
    "все",
    "дети",
    "просьба",
    "напоминаю",
    "спасибо",
    "сегодня",
    "вопрос",
    "можно",
    "ли",
    "принести",
    "сдать",
    "кабинет",
    "в 14:30",
    "номер",
];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn sentence(rng: &mut impl Rng) -> String {
    let n = rng.gen_range(6..16);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if rng.gen_bool(0.55) {
            out.push(FILLER[rng.gen_range(0..FILLER.len())].to_string());
        } else {
            let i = ((rng.gen_range(0.0f64..1.0)).powf(2.2) * WORDS.len() as f64) as usize;
            let forms = WORDS[i.min(WORDS.len() - 1)];
            out.push(forms[rng.gen_range(0..forms.len())].to_string());
        }
    }
    out.join(" ")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if std::env::args().count() <= 2 {
        // `cargo bench` with no arguments (CI, `cargo bench --workspace`):
        // a quick run that proves the benchmark works.
        run(20_000, 1_000, 200, false).await;
        return;
    }
    let messages = arg("--messages", 10_000_000);
    let chats = arg("--chats", 10_000);
    let queries = arg("--queries", 1_000) as usize;
    run(messages, chats, queries, true).await;
}

async fn run(messages: u64, chats: u64, queries: usize, full: bool) {
    println!("files and search benchmark: {messages} messages in {chats} chats, {queries} queries");
    if !flag("--skip-thumbnail") {
        thumbnail();
    }
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    if !flag("--skip-upload") {
        upload(&app, &teacher, full).await;
    }
    if flag("--skip-search") {
        app.finish().await;
        return;
    }
    let me: serde_json::Value = teacher.json(&app, "/api/messenger/chats").await;
    let person = me[0]["me"].as_i64().unwrap();
    let org = me[0]["org"].as_i64().unwrap();
    let account_id = app.db.store.link_of(org, person).await.unwrap().unwrap().account_id;

    let started = Instant::now();
    seed(&app.db.url, org, person, messages, chats).await;
    let seeded = started.elapsed();
    println!(
        "seeded {messages} messages and their index in {:.1} s ({:.0} messages/s)",
        seeded.as_secs_f64(),
        messages as f64 / seeded.as_secs_f64()
    );
    let size = std::fs::metadata(app.db.url.trim_start_matches("sqlite://")).map(|m| m.len()).unwrap_or(0);
    println!("database file: {:.2} GiB", size as f64 / (1u64 << 30) as f64);

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut lists: Vec<(&str, Vec<String>)> = Vec::new();
    // Words by how common they are, each asked in another form than most
    // messages have it; two-word queries; a word in no message.
    let pick = |rng: &mut rand::rngs::StdRng, range: std::ops::Range<usize>| {
        let forms = WORDS[rng.gen_range(range)];
        forms[rng.gen_range(0..forms.len())].to_string()
    };
    lists.push(("common word", (0..queries).map(|_| pick(&mut rng, 0..5)).collect()));
    lists.push(("rare word", (0..queries).map(|_| pick(&mut rng, 25..WORDS.len())).collect()));
    lists.push((
        "two words",
        (0..queries)
            .map(|_| format!("{} {}", pick(&mut rng, 0..WORDS.len()), pick(&mut rng, 0..WORDS.len())))
            .collect(),
    ));
    lists.push(("no match", (0..queries).map(|i| format!("несуществующееслово{i}")).collect()));
    for (what, list) in &lists {
        let mut times = Vec::with_capacity(list.len());
        let mut hits = 0;
        for q in list {
            let filter = SearchFilter {
                query: search::Query::parse(q).unwrap(),
                chat: None,
                sender: None,
                from: None,
                to: None,
                has_file: None,
                before: None,
                limit: 30,
            };
            let t = Instant::now();
            let found = app.db.store.search_messages(account_id, &filter).await.unwrap();
            times.push(t.elapsed());
            hits += found.len();
        }
        times.sort();
        println!(
            "search (store), {what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.1} hits per query",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap()),
            hits as f64 / list.len() as f64
        );
    }
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for q in lists.iter().flat_map(|(_, l)| l.iter()).take(queries) {
        let url = app.url(&format!("/api/messenger/search?q={}", urlencode(q)));
        let t = Instant::now();
        let res = client.get(url).header("cookie", &teacher.cookie).send().await.unwrap();
        assert!(res.status().is_success());
        let _ = res.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "search (HTTP, common words), whole request: p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );
    app.finish().await;
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Writes `n` messages into `chats` new chats of `org` (the person is a
/// member of 30 of them) with their search index, as the writer would.
async fn seed(url: &str, org: i64, person: i64, n: u64, chats: u64) {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    conn.execute("PRAGMA synchronous = OFF").await.unwrap();
    let authors: Vec<i64> = sqlx::query_scalar("SELECT id FROM people").fetch_all(&mut conn).await.unwrap();
    let first_chat: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM chats").fetch_one(&mut conn).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    for chunk in (0..chats).collect::<Vec<_>>().chunks(500) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO chats (id, org_id, kind, name, created_at) ");
        q.push_values(chunk, |mut row, i| {
            row.push_bind(first_chat + *i as i64)
                .push_bind(org)
                .push_bind("custom")
                .push_bind(format!("Чат {i}"))
                .push_bind(0i64);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    for i in 0..30 {
        sqlx::query("INSERT INTO chat_members (chat_id, person_id, admin, source, status) VALUES ($1, $2, FALSE, 'manual', 'active')")
            .bind(first_chat + i * (chats as i64 / 30))
            .bind(person)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let first_id: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM messages").fetch_one(&mut conn).await.unwrap();
    let mut seqs = vec![0i64; chats as usize];
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let start_at = 1_756_684_800i64; // 2025-09-01
    let per_tx = 20_000u64;
    let mut done = 0u64;
    let report = Instant::now();
    while done < n {
        let count = per_tx.min(n - done);
        let mut rows = Vec::with_capacity(count as usize);
        for k in done..done + count {
            let c = rng.gen_range(0..chats) as usize;
            seqs[c] += 1;
            let text = sentence(&mut rng);
            let chat_id = first_chat + c as i64;
            let terms: Vec<String> = search::terms(&text).into_iter().map(|t| format!("{chat_id}_{t}")).collect();
            rows.push((
                first_id + k as i64,
                chat_id,
                seqs[c],
                authors[k as usize % authors.len()],
                text,
                terms.join(" "),
                start_at + k as i64 * 3,
            ));
        }
        let mut tx = conn.begin().await.unwrap();
        for chunk in rows.chunks(500) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO messages (id, chat_id, seq, author_id, client_id, body, mentions, created_at) ",
            );
            q.push_values(chunk, |mut row, r| {
                row.push_bind(r.0)
                    .push_bind(r.1)
                    .push_bind(r.2)
                    .push_bind(r.3)
                    .push_bind(format!("b{}", r.0))
                    .push_bind(&r.4)
                    .push_bind("")
                    .push_bind(r.6);
            });
            q.build().execute(&mut *tx).await.unwrap();
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO message_fts (rowid, terms) ");
            q.push_values(chunk, |mut row, r| {
                row.push_bind(r.0).push_bind(&r.5);
            });
            q.build().execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        done += count;
        if done.is_multiple_of(1_000_000) {
            println!("  {done} messages, {:.0} s", report.elapsed().as_secs_f64());
        }
    }
    let mut tx = conn.begin().await.unwrap();
    for (c, seq) in seqs.iter().enumerate() {
        sqlx::query("UPDATE chats SET last_seq = $1 WHERE id = $2")
            .bind(seq)
            .bind(first_chat + c as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
}

async fn upload(app: &common::TestApp, teacher: &common::chat::Linked, full: bool) {
    let chat = teacher.chat_named(app, "5А класс").await;
    let size = if full { 100 * 1024 * 1024 } else { 8 * 1024 * 1024 };
    let mut body = vec![0u8; size];
    rand::rngs::StdRng::seed_from_u64(1).fill(&mut body[..]);
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for i in 0..3u8 {
        body[0] = i; // a different blob each time
        let t = Instant::now();
        let res = client
            .post(app.url(&format!("/api/messenger/chats/{chat}/files")))
            .header("cookie", &teacher.cookie)
            .header("x-file-name", "big.bin")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        times.push(t.elapsed());
    }
    let mb = size as f64 / (1024.0 * 1024.0);
    let best = times.iter().min().unwrap();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "upload over HTTP, {mb:.0} MB (staged on disk, SHA-256, stored): mean {:.2} s ({:.0} MB/s), best {:.2} s ({:.0} MB/s)",
        mean.as_secs_f64(),
        mb / mean.as_secs_f64(),
        best.as_secs_f64(),
        mb / best.as_secs_f64()
    );
    // The same staging and store on the local disk, without HTTP.
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into())).unwrap();
    let blobs = blobs::Blobs::local_in(dir.path()).unwrap();
    let t = Instant::now();
    let mut staging = blobs.stage(u64::MAX).unwrap();
    for chunk in body.chunks(64 * 1024) {
        staging.write(chunk).await.unwrap();
    }
    let staged = staging.finish().await.unwrap();
    blobs.put_staged(&staged).await.unwrap();
    let d = t.elapsed();
    println!(
        "stage + store on the local disk (no HTTP), {mb:.0} MB: {:.2} s ({:.0} MB/s)",
        d.as_secs_f64(),
        mb / d.as_secs_f64()
    );
}

fn thumbnail() {
    let photo = blobs::testdata::big_photo(4000, 3000);
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = blobs::media::process_image(&photo, blobs::media::ImageFormat::Jpeg).unwrap();
        times.push(t.elapsed());
        assert!(out.thumbnail.is_some());
    }
    times.sort();
    println!(
        "12 MP photo ({:.1} MB JPEG): strip metadata + decode + thumbnail: median {:.0} ms, best {:.0} ms",
        photo.len() as f64 / 1e6,
        ms(times[1]),
        ms(times[0])
    );
}
