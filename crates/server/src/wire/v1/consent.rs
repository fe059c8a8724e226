//! Consent forms: asking and answering, as members see them, and the chat
//! admins' report.

use super::Author;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A form as a member sees it. Events carry no `children`: which families
/// answered what is theirs and the chat admins'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    pub title: String,
    pub options: Vec<String>,
    /// Answers are taken until then (unix seconds).
    pub deadline: i64,
    pub comment_required: bool,
    /// When a chat admin last reopened it with a new deadline.
    pub reopened_at: Option<i64>,
    /// Students of the class with an answer.
    pub answered: i64,
    /// Students of the class.
    pub students: i64,
    /// The viewer's own children in the class, with each one's latest
    /// answer (whichever guardian gave it): in answers to the viewer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<ConsentChild>>,
}

impl From<storage::ConsentView> for ConsentView {
    fn from(value: storage::ConsentView) -> Self {
        let storage::ConsentView {
            title,
            options,
            deadline,
            comment_required,
            reopened_at,
            answered,
            students,
            children,
        } = value;
        ConsentView {
            title,
            options,
            deadline,
            comment_required,
            reopened_at,
            answered,
            students,
            children: children.map(|v| v.into_iter().map(Into::into).collect()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentChild {
    pub student: i64,
    pub name: String,
    pub answer: Option<ConsentAnswer>,
}

impl From<storage::ConsentChild> for ConsentChild {
    fn from(value: storage::ConsentChild) -> Self {
        let storage::ConsentChild { student, name, answer } = value;
        ConsentChild { student, name, answer: answer.map(Into::into) }
    }
}

/// One answer for one child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentAnswer {
    /// The option's index.
    pub option: i64,
    pub comment: Option<String>,
    /// The guardian who answered.
    pub by: Author,
    pub at: i64,
}

impl From<storage::ConsentAnswer> for ConsentAnswer {
    fn from(value: storage::ConsentAnswer) -> Self {
        let storage::ConsentAnswer { option, comment, by, at } = value;
        ConsentAnswer { option, comment, by: by.into(), at }
    }
}

/// A chat admin's report: every student of the class, answered or not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentReport {
    pub message: i64,
    pub title: String,
    pub text: String,
    pub options: Vec<String>,
    pub deadline: i64,
    pub comment_required: bool,
    pub reopened_at: Option<i64>,
    /// Latest answers per option, by index.
    pub counts: Vec<i64>,
    pub answered: i64,
    pub total: i64,
    /// By name; each with their guardians in the chat.
    pub students: Vec<ConsentStudent>,
    pub reminded_at: Option<i64>,
    /// When «Напомнить» may be used again (absent: now).
    pub next_reminder_at: Option<i64>,
}

impl From<storage::ConsentReport> for ConsentReport {
    fn from(value: storage::ConsentReport) -> Self {
        let storage::ConsentReport {
            message,
            title,
            text,
            options,
            deadline,
            comment_required,
            reopened_at,
            counts,
            answered,
            total,
            students,
            reminded_at,
            next_reminder_at,
        } = value;
        ConsentReport {
            message,
            title,
            text,
            options,
            deadline,
            comment_required,
            reopened_at,
            counts,
            answered,
            total,
            students: students.into_iter().map(Into::into).collect(),
            reminded_at,
            next_reminder_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentStudent {
    pub student: i64,
    pub name: String,
    /// Their guardians who are in the chat (who can answer).
    pub guardians: Vec<Author>,
    /// The answer that counts: the latest.
    pub answer: Option<ConsentAnswer>,
    /// Earlier answers, oldest first.
    pub history: Vec<ConsentAnswer>,
}

impl From<storage::ConsentStudent> for ConsentStudent {
    fn from(value: storage::ConsentStudent) -> Self {
        let storage::ConsentStudent { student, name, guardians, answer, history } = value;
        ConsentStudent {
            student,
            name,
            guardians: guardians.into_iter().map(Into::into).collect(),
            answer: answer.map(Into::into),
            history: history.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentForm {
    /// The client's idempotency key, as in a send.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    /// One line, not blank, at most 200 characters once trimmed.
    #[schema(schema_with = crate::openapi::consent_title)]
    pub title: String,
    /// What the consent is for: a message's text.
    #[schema(schema_with = crate::openapi::message_text)]
    pub text: String,
    /// 2–10 options; absent or empty: «Согласен» / «Не согласен».
    #[serde(default)]
    #[schema(schema_with = crate::openapi::consent_options)]
    pub options: Vec<String>,
    /// Answers are taken until then (unix seconds, in the future).
    pub deadline: i64,
    /// Every answer must carry a comment.
    #[serde(default)]
    pub comment_required: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerForm {
    /// The child answered for: a student of the chat's class whose guardian the caller is.
    pub student: i64,
    /// The chosen option's index.
    #[schema(minimum = 0, maximum = 9)]
    pub option: i64,
    /// At most 1,000 characters; required when the form says so.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ReopenForm {
    /// The new deadline (unix seconds, in the future).
    pub deadline: i64,
}
