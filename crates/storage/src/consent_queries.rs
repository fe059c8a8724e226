// Consent forms, compiled per backend inside `mod consent` of `mod sqlite`
// and `mod postgres` (see lib.rs).

use super::messages::{access, log_event, next_seq};
use super::receipts::{Reminders, last_reminder, record_reminder};
use crate::{
    Author, Change, ConsentAnswer, ConsentChanged, ConsentChild, ConsentReport, ConsentStudent, ConsentView, EventView,
    NewConsentForm, Reminded, StorageError,
};
use ::messenger::consent::{self, ConsentRefusal, FormFacts};
use ::messenger::receipts;
use std::collections::HashMap;

/// The students of a chat's class `c`: active students enrolled in it.
const STUDENTS: &str = "FROM chats c \
     JOIN enrollments e ON e.class_id = c.class_id AND e.role = 'student' AND e.active \
     JOIN people s ON s.id = e.person_id AND s.active";

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn list(sql: &str, ids: &[i64]) -> sqlx::QueryBuilder<'static, Db> {
    let mut q = sqlx::QueryBuilder::<Db>::new(sql);
    let mut items = q.separated(", ");
    for id in ids {
        items.push_bind(*id);
    }
    q.push(")");
    q
}

/// May the member ask for consent here: a parents' chat and its admin. On
/// yes, how many students the class has (the new form's count).
pub(crate) async fn may_create(
    tx: &mut Tx,
    chat: i64,
    admin: bool,
) -> Result<Result<i64, ConsentRefusal>, sqlx::Error> {
    let kind: String =
        sqlx::query_scalar("SELECT kind FROM chats WHERE id = $1").bind(chat).fetch_one(&mut **tx).await?;
    if let Err(refusal) = consent::may_create(kind == "parents", admin) {
        return Ok(Err(refusal));
    }
    let students: i64 = sqlx::query_scalar(&format!("SELECT COUNT(DISTINCT s.id) {STUDENTS} WHERE c.id = $1"))
        .bind(chat)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Ok(students))
}

/// Appending a form's message: its settings and options, in the same transaction.
pub(crate) async fn insert(tx: &mut Tx, message: i64, form: &NewConsentForm) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO consent_forms (message_id, title, deadline, comment_required) VALUES ($1, $2, $3, $4)")
        .bind(message)
        .bind(&form.title)
        .bind(form.deadline)
        .bind(form.comment_required)
        .execute(&mut **tx)
        .await?;
    let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO consent_options (message_id, idx, text) ");
    q.push_values(form.options.iter().enumerate(), |mut row, (i, text)| {
        row.push_bind(message).push_bind(count(i)).push_bind(text.clone());
    });
    q.build().execute(&mut **tx).await?;
    Ok(())
}

/// A new form as its first event shows it: nobody has answered.
pub(crate) fn fresh(form: &NewConsentForm, students: i64) -> ConsentView {
    ConsentView {
        title: form.title.clone(),
        options: form.options.clone(),
        deadline: form.deadline,
        comment_required: form.comment_required,
        reopened_at: None,
        answered: 0,
        students,
        children: None,
    }
}

/// One stored answer with the answerer's name.
#[derive(sqlx::FromRow)]
struct AnswerRow {
    message_id: i64,
    student_id: i64,
    idx: i64,
    comment: Option<String>,
    person_id: i64,
    name: String,
    at: i64,
}

const ANSWERS: &str = "SELECT a.message_id, a.student_id, a.idx, a.comment, a.person_id, \
     p.last_name || ' ' || p.first_name AS name, a.at FROM consent_answers a JOIN people p ON p.id = a.person_id";

impl AnswerRow {
    fn answer(self) -> ConsentAnswer {
        ConsentAnswer {
            option: self.idx,
            comment: self.comment,
            by: Author { person: self.person_id, name: self.name },
            at: self.at,
        }
    }
}

/// The latest answer per (form, student) among `messages`, keyed so.
async fn latest_answers(conn: &mut Conn, messages: &[i64]) -> Result<HashMap<(i64, i64), ConsentAnswer>, sqlx::Error> {
    let rows: Vec<AnswerRow> =
        list(&format!("{ANSWERS} WHERE a.id IN (SELECT MAX(id) FROM consent_answers WHERE message_id IN ("), messages)
            .push(" GROUP BY message_id, student_id)")
            .build_query_as()
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|r| ((r.message_id, r.student_id), r.answer())).collect())
}

/// Each chat's students (id, name) by name.
async fn students_of(conn: &mut Conn, chats: &[i64]) -> Result<HashMap<i64, Vec<(i64, String)>>, sqlx::Error> {
    let rows: Vec<(i64, i64, String)> = list(
        &format!("SELECT DISTINCT c.id, s.id, s.last_name || ' ' || s.first_name, s.last_name, s.first_name {STUDENTS} WHERE c.id IN ("),
        chats,
    )
    .push(" ORDER BY s.last_name, s.first_name, s.id")
    .build_query_as::<(i64, i64, String, String, String)>()
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(chat, id, name, _, _)| (chat, id, name))
    .collect();
    let mut by_chat: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (chat, id, name) in rows {
        by_chat.entry(chat).or_default().push((id, name));
    }
    Ok(by_chat)
}

/// The forms among `messages`, with `viewer`'s children's rows when given.
pub(crate) async fn views_of(
    conn: &mut Conn,
    messages: &[i64],
    viewer: Option<i64>,
) -> Result<HashMap<i64, ConsentView>, StorageError> {
    let mut views = HashMap::new();
    if messages.is_empty() {
        return Ok(views);
    }
    type FormRow = (i64, i64, String, i64, bool, Option<i64>);
    let forms: Vec<FormRow> = list(
        "SELECT f.message_id, m.chat_id, f.title, f.deadline, f.comment_required, f.reopened_at \
         FROM consent_forms f JOIN messages m ON m.id = f.message_id WHERE f.message_id IN (",
        messages,
    )
    .build_query_as()
    .fetch_all(&mut *conn)
    .await?;
    if forms.is_empty() {
        return Ok(views);
    }
    let ids: Vec<i64> = forms.iter().map(|f| f.0).collect();
    let mut chats: Vec<i64> = forms.iter().map(|f| f.1).collect();
    chats.sort_unstable();
    chats.dedup();
    let mut q = list("SELECT message_id, idx, text FROM consent_options WHERE message_id IN (", &ids);
    q.push(" ORDER BY message_id, idx");
    let options: Vec<(i64, i64, String)> = q.build_query_as().fetch_all(&mut *conn).await?;
    let answers = latest_answers(conn, &ids).await?;
    let students = students_of(conn, &chats).await?;
    let mine: Vec<i64> = match viewer {
        Some(person) => {
            sqlx::query_scalar("SELECT student_id FROM guardianships WHERE guardian_id = $1")
                .bind(person)
                .fetch_all(&mut *conn)
                .await?
        }
        None => Vec::new(),
    };
    for (id, chat, title, deadline, comment_required, reopened_at) in forms {
        let class = students.get(&chat).map(Vec::as_slice).unwrap_or_default();
        let answered = class.iter().filter(|(s, _)| answers.contains_key(&(id, *s))).count();
        let children = viewer.map(|_| {
            class
                .iter()
                .filter(|(s, _)| mine.contains(s))
                .map(|(s, name)| ConsentChild {
                    student: *s,
                    name: name.clone(),
                    answer: answers.get(&(id, *s)).cloned(),
                })
                .collect()
        });
        let view = ConsentView {
            title,
            options: Vec::new(),
            deadline,
            comment_required,
            reopened_at,
            answered: count(answered),
            students: count(class.len()),
            children,
        };
        views.insert(id, view);
    }
    for (id, _, text) in options {
        if let Some(v) = views.get_mut(&id) {
            v.options.push(text);
        }
    }
    Ok(views)
}

/// A live form of the chat: its facts.
async fn form_of(conn: &mut Conn, chat: i64, message: i64) -> Result<FormFacts, StorageError> {
    let row: Option<(i64, bool, i64)> = sqlx::query_as(
        "SELECT f.deadline, f.comment_required, \
           (SELECT COUNT(*) FROM consent_options o WHERE o.message_id = f.message_id) \
         FROM consent_forms f JOIN messages m ON m.id = f.message_id \
         WHERE f.message_id = $1 AND m.chat_id = $2 AND m.deleted_at IS NULL",
    )
    .bind(message)
    .bind(chat)
    .fetch_optional(&mut *conn)
    .await?;
    let (deadline, comment_required, options) = row.ok_or(StorageError::NotFound)?;
    Ok(FormFacts { options: usize::try_from(options).unwrap_or(0), deadline, comment_required })
}

/// The form as `viewer` sees it.
async fn view_for(conn: &mut Conn, message: i64, viewer: i64) -> Result<ConsentView, StorageError> {
    views_of(conn, &[message], Some(viewer)).await?.remove(&message).ok_or(StorageError::NotFound)
}

/// Logs the form's change as an event and reads it back for `viewer`.
async fn changed(mut tx: Tx, chat: i64, message: i64, viewer: i64, now: i64) -> Result<ConsentChanged, StorageError> {
    let seq = next_seq(&mut tx, chat).await?;
    log_event(&mut tx, chat, seq, "consent", message, viewer, None, now).await?;
    let form = view_for(&mut tx, message, viewer).await?;
    tx.commit().await?;
    let public = ConsentView { children: None, ..form.clone() };
    let event = EventView {
        chat_id: chat,
        seq,
        at: now,
        change: Change::Consent { message_id: message, consent: Box::new(public) },
    };
    Ok(ConsentChanged { event, form })
}

pub(crate) async fn view(pool: &Pool<Db>, account: i64, chat: i64, message: i64) -> Result<ConsentView, StorageError> {
    let mut conn = pool.acquire().await?;
    let me = access(&mut *conn, chat, account).await?;
    form_of(&mut conn, chat, message).await?;
    view_for(&mut conn, message, me.person_id).await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn answer(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    student: i64,
    option: i64,
    comment: Option<&str>,
    now: i64,
) -> Result<ConsentChanged, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    let facts = form_of(&mut tx, chat, message).await?;
    let children: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT s.id {STUDENTS} JOIN guardianships g ON g.student_id = s.id WHERE c.id = $1 AND g.guardian_id = $2"
    ))
    .bind(chat)
    .bind(me.person_id)
    .fetch_all(&mut *tx)
    .await?;
    let answer = consent::check_answer(&facts, &children, student, option, comment, now)
        .map_err(StorageError::ConsentRefused)?;
    sqlx::query(
        "INSERT INTO consent_answers (message_id, student_id, person_id, idx, comment, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(message)
    .bind(student)
    .bind(me.person_id)
    .bind(count(answer.option))
    .bind(answer.comment)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    changed(tx, chat, message, me.person_id, now).await
}

pub(crate) async fn reopen(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    deadline: i64,
    now: i64,
) -> Result<ConsentChanged, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    form_of(&mut tx, chat, message).await?;
    consent::may_reopen(me.admin, deadline, now).map_err(StorageError::ConsentRefused)?;
    sqlx::query("UPDATE consent_forms SET deadline = $1, reopened_at = $2 WHERE message_id = $3")
        .bind(deadline)
        .bind(now)
        .bind(message)
        .execute(&mut *tx)
        .await?;
    changed(tx, chat, message, me.person_id, now).await
}

/// Every student of the form's class with their guardians in the chat, their
/// latest answer and the earlier ones.
async fn students(conn: &mut Conn, chat: i64, message: i64) -> Result<Vec<ConsentStudent>, StorageError> {
    let mut students: Vec<ConsentStudent> = students_of(conn, &[chat])
        .await?
        .remove(&chat)
        .unwrap_or_default()
        .into_iter()
        .map(|(student, name)| ConsentStudent {
            student,
            name,
            guardians: Vec::new(),
            answer: None,
            history: Vec::new(),
        })
        .collect();
    let guardians: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT DISTINCT s.id, g.guardian_id, p.last_name || ' ' || p.first_name {STUDENTS} \
         JOIN guardianships g ON g.student_id = s.id \
         JOIN chat_members m ON m.chat_id = c.id AND m.person_id = g.guardian_id AND m.status = 'active' \
         JOIN people p ON p.id = g.guardian_id WHERE c.id = $1 ORDER BY 3, 2"
    ))
    .bind(chat)
    .fetch_all(&mut *conn)
    .await?;
    let answers: Vec<AnswerRow> = sqlx::query_as(&format!("{ANSWERS} WHERE a.message_id = $1 ORDER BY a.id"))
        .bind(message)
        .fetch_all(&mut *conn)
        .await?;
    let index: HashMap<i64, usize> = students.iter().enumerate().map(|(i, s)| (s.student, i)).collect();
    for (student, person, name) in guardians {
        if let Some(s) = index.get(&student).and_then(|i| students.get_mut(*i)) {
            s.guardians.push(Author { person, name });
        }
    }
    for row in answers {
        if let Some(s) = index.get(&row.student_id).and_then(|i| students.get_mut(*i))
            && let Some(earlier) = s.answer.replace(row.answer())
        {
            s.history.push(earlier);
        }
    }
    Ok(students)
}

pub(crate) async fn report(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
) -> Result<ConsentReport, StorageError> {
    let mut conn = pool.acquire().await?;
    let me = access(&mut *conn, chat, account).await?;
    consent::may_report(me.admin).map_err(StorageError::Refused)?;
    form_of(&mut conn, chat, message).await?;
    let form = views_of(&mut conn, &[message], None).await?.remove(&message).ok_or(StorageError::NotFound)?;
    let text: String =
        sqlx::query_scalar("SELECT body FROM messages WHERE id = $1").bind(message).fetch_one(&mut *conn).await?;
    let students = students(&mut conn, chat, message).await?;
    let mut counts = vec![0_i64; form.options.len()];
    for a in students.iter().filter_map(|s| s.answer.as_ref()) {
        if let Some(n) = usize::try_from(a.option).ok().and_then(|i| counts.get_mut(i)) {
            *n += 1;
        }
    }
    let reminded_at = last_reminder(&mut conn, Reminders::Consent, message).await?;
    Ok(ConsentReport {
        message,
        title: form.title,
        text,
        options: form.options,
        deadline: form.deadline,
        comment_required: form.comment_required,
        reopened_at: form.reopened_at,
        counts,
        answered: form.answered,
        total: form.students,
        students,
        reminded_at,
        next_reminder_at: reminded_at.map(|at| at + receipts::REMIND_EVERY),
    })
}

pub(crate) async fn remind(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    now: i64,
) -> Result<Reminded, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    consent::may_report(me.admin).map_err(StorageError::Refused)?;
    form_of(&mut tx, chat, message).await?;
    if let Err(wait) = receipts::may_remind(last_reminder(&mut tx, Reminders::Consent, message).await?, now) {
        return Ok(Reminded::TooSoon { retry_after: wait });
    }
    let people: Vec<i64> = students(&mut tx, chat, message)
        .await?
        .iter()
        .filter(|s| s.answer.is_none())
        .flat_map(|s| s.guardians.iter().map(|g| g.person))
        .collect();
    record_reminder(tx, Reminders::Consent, chat, message, me.person_id, people, now).await
}
