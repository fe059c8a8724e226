//! Consent forms (issue 20): a message in a parents' chat whose text is the
//! form's text, answered per child by the child's guardians. A form is
//! created with its message (`NewMessage.consent`, in the append's
//! transaction); an answer or a reopening is an event in the chat's log
//! (`Change::Consent`) carrying what every member may see — never a family's
//! answer: each guardian reads their own children's rows, and the chat's
//! admins the report. The rules are `messenger::consent`.

use crate::{Author, EventView, Pool, Reminded, StorageError, Store};
use serde::{Deserialize, Serialize};

/// A form's settings as its message is appended (the text is the message's).
#[derive(Debug, Clone)]
pub struct NewConsentForm {
    pub title: String,
    pub options: Vec<String>,
    pub deadline: i64,
    pub comment_required: bool,
}

/// A form as a member sees it. Events carry no `children`: which families
/// answered what is theirs and the chat admins'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChild {
    pub student: i64,
    pub name: String,
    pub answer: Option<ConsentAnswer>,
}

/// One answer for one child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentAnswer {
    /// The option's index.
    pub option: i64,
    pub comment: Option<String>,
    /// The guardian who answered.
    pub by: Author,
    pub at: i64,
}

/// A chat admin's report: every student of the class, answered or not.
#[derive(Debug, Clone)]
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

#[derive(Debug, Clone)]
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

/// What an answer or a reopening did: the event to publish, and the form as
/// the actor now sees it.
#[derive(Debug, Clone)]
pub struct ConsentChanged {
    pub event: EventView,
    pub form: ConsentView,
}

impl Store {
    /// The form as the account sees it, with their children's rows.
    pub async fn consent(&self, account: i64, chat: i64, message: i64) -> Result<ConsentView, StorageError> {
        dispatch!(self.consent::view(account, chat, message))
    }

    /// A guardian's answer for one of their children; the latest counts.
    #[allow(clippy::too_many_arguments)]
    pub async fn answer_consent(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        student: i64,
        option: i64,
        comment: Option<&str>,
        now: i64,
    ) -> Result<ConsentChanged, StorageError> {
        self.queued(async { dispatch!(self.consent::answer(account, chat, message, student, option, comment, now)) })
            .await
    }

    /// A chat admin takes answers again until `deadline`.
    pub async fn reopen_consent(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        deadline: i64,
        now: i64,
    ) -> Result<ConsentChanged, StorageError> {
        self.queued(async { dispatch!(self.consent::reopen(account, chat, message, deadline, now)) }).await
    }

    pub async fn consent_report(&self, account: i64, chat: i64, message: i64) -> Result<ConsentReport, StorageError> {
        dispatch!(self.consent::report(account, chat, message))
    }

    /// Records a reminder to the guardians of students without an answer,
    /// unless one went less than 12 hours ago.
    pub async fn remind_consent(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        now: i64,
    ) -> Result<Reminded, StorageError> {
        dispatch!(self.consent::remind(account, chat, message, now))
    }
}
