//! Consent forms (issue 20): «Согласие на экскурсию в музей до пятницы». A
//! chat admin of a parents' chat asks; a guardian answers **for each of their
//! children** in the chat's class, so a parent of two answers twice and two
//! guardians of one child share one answer — the latest counts, the earlier
//! ones stay as history. Answers close at the deadline unless an admin
//! reopens the form with a new one. The message's text is the form's text.

use crate::{MessageText, Refusal};

pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;
pub const MAX_OPTION_CHARS: usize = 200;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_COMMENT_CHARS: usize = 1_000;
/// The options a form gets when its author names none.
pub const DEFAULT_OPTIONS: [&str; 2] = ["Согласен", "Не согласен"];

/// A form as its author asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentSpec {
    pub title: String,
    pub text: MessageText,
    pub options: Vec<String>,
    pub deadline: i64,
    pub comment_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("the title is empty")]
    TitleEmpty,
    #[error("the title is too long or has control characters")]
    TitleInvalid,
    #[error("the text is empty")]
    TextEmpty,
    #[error("the text is too long or has control characters")]
    TextInvalid,
    #[error("a form has 2 to 10 options")]
    OptionCount,
    #[error("option {0} is empty")]
    OptionEmpty(usize),
    #[error("option {0} is too long or has control characters")]
    OptionInvalid(usize),
    #[error("the deadline has passed")]
    DeadlineInPast,
}

/// One line of at most `max` characters, trimmed; `None` when blank.
fn line(raw: &str, max: usize) -> Result<Option<String>, ()> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(());
    }
    Ok(Some(s.to_string()))
}

impl ConsentSpec {
    /// No options (`[]`) means «Согласен» / «Не согласен».
    pub fn parse(
        title: &str,
        text: &str,
        options: &[String],
        deadline: i64,
        comment_required: bool,
        now: i64,
    ) -> Result<ConsentSpec, ConsentError> {
        let title = line(title, MAX_TITLE_CHARS).map_err(|()| ConsentError::TitleInvalid)?;
        let title = title.ok_or(ConsentError::TitleEmpty)?;
        if text.trim().is_empty() {
            return Err(ConsentError::TextEmpty);
        }
        let text = MessageText::parse(text).map_err(|_| ConsentError::TextInvalid)?;
        let options: Vec<String> = if options.is_empty() {
            DEFAULT_OPTIONS.iter().map(|o| o.to_string()).collect()
        } else {
            if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
                return Err(ConsentError::OptionCount);
            }
            let mut parsed = Vec::with_capacity(options.len());
            for (i, option) in options.iter().enumerate() {
                let option = line(option, MAX_OPTION_CHARS).map_err(|()| ConsentError::OptionInvalid(i))?;
                parsed.push(option.ok_or(ConsentError::OptionEmpty(i))?);
            }
            parsed
        };
        if deadline <= now {
            return Err(ConsentError::DeadlineInPast);
        }
        Ok(ConsentSpec { title, text, options, deadline, comment_required })
    }
}

/// Why a form may not be made, answered, reopened or reported on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentRefusal {
    #[error("consent forms are for parents' chats")]
    NotParentsChat,
    #[error("only the chat's admins may do this")]
    NotAdmin,
    #[error("the deadline has passed")]
    Closed,
    #[error("the student is not the answerer's child in this class")]
    NotYourChild,
    #[error("no such option")]
    OutOfRange,
    #[error("a comment is required")]
    CommentRequired,
    #[error("the comment is too long or has control characters")]
    CommentInvalid,
    #[error("the new deadline has passed")]
    DeadlineInPast,
}

/// Only a parents' chat has families to ask, and only its admins ask them.
pub fn may_create(parents_chat: bool, chat_admin: bool) -> Result<(), ConsentRefusal> {
    if !parents_chat {
        return Err(ConsentRefusal::NotParentsChat);
    }
    if !chat_admin {
        return Err(ConsentRefusal::NotAdmin);
    }
    Ok(())
}

/// What the rules need to know about a stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormFacts {
    pub options: usize,
    pub deadline: i64,
    pub comment_required: bool,
}

impl FormFacts {
    pub fn is_open(&self, now: i64) -> bool {
        now < self.deadline
    }
}

/// An answer that may be stored: the option's index and the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub option: usize,
    pub comment: Option<String>,
}

/// Checks one guardian's answer for `student`; `children` are the students
/// of the chat's class the guardian answers for.
pub fn check_answer(
    form: &FormFacts,
    children: &[i64],
    student: i64,
    option: i64,
    comment: Option<&str>,
    now: i64,
) -> Result<Answer, ConsentRefusal> {
    if !form.is_open(now) {
        return Err(ConsentRefusal::Closed);
    }
    if !children.contains(&student) {
        return Err(ConsentRefusal::NotYourChild);
    }
    let option = usize::try_from(option).ok().filter(|i| *i < form.options).ok_or(ConsentRefusal::OutOfRange)?;
    let comment = match comment {
        None => None,
        Some(c) => {
            if c.chars().count() > MAX_COMMENT_CHARS || c.chars().any(|ch| ch.is_control() && ch != '\n') {
                return Err(ConsentRefusal::CommentInvalid);
            }
            let c = c.trim();
            (!c.is_empty()).then(|| c.to_string())
        }
    };
    if form.comment_required && comment.is_none() {
        return Err(ConsentRefusal::CommentRequired);
    }
    Ok(Answer { option, comment })
}

/// A chat admin reopens a form (open or closed) until a new, future deadline.
pub fn may_reopen(chat_admin: bool, deadline: i64, now: i64) -> Result<(), ConsentRefusal> {
    if !chat_admin {
        return Err(ConsentRefusal::NotAdmin);
    }
    if deadline <= now {
        return Err(ConsentRefusal::DeadlineInPast);
    }
    Ok(())
}

/// Only a chat's admins see every family's answers and remind the others.
pub fn may_report(chat_admin: bool) -> Result<(), Refusal> {
    crate::receipts::may_see(chat_admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("Вариант {i}")).collect()
    }

    #[test]
    fn a_form_has_a_title_a_text_a_future_deadline_and_agree_or_not_by_default() {
        let spec = ConsentSpec::parse(" Музей ", "Экскурсия в пятницу", &[], 10, false, 0).unwrap();
        assert_eq!(spec.title, "Музей");
        assert_eq!(spec.options, ["Согласен", "Не согласен"]);
        assert!(ConsentSpec::parse("Музей", "Текст", &options(10), 10, true, 0).is_ok());
        let parse = |title: &str, text: &str, options: &[String], deadline| {
            ConsentSpec::parse(title, text, options, deadline, false, 5).map(|_| ())
        };
        assert_eq!(parse(" ", "Текст", &[], 10), Err(ConsentError::TitleEmpty));
        assert_eq!(parse(&"я".repeat(201), "Текст", &[], 10), Err(ConsentError::TitleInvalid));
        assert_eq!(parse("Музей", "\n", &[], 10), Err(ConsentError::TextEmpty));
        assert_eq!(parse("Музей", "Текст", &options(1), 10), Err(ConsentError::OptionCount));
        assert_eq!(parse("Музей", "Текст", &options(11), 10), Err(ConsentError::OptionCount));
        let blank = vec!["Да".to_string(), " ".to_string()];
        assert_eq!(parse("Музей", "Текст", &blank, 10), Err(ConsentError::OptionEmpty(1)));
        assert_eq!(parse("Музей", "Текст", &[], 5), Err(ConsentError::DeadlineInPast));
    }

    #[test]
    fn only_a_parents_chats_admins_ask() {
        assert_eq!(may_create(true, true), Ok(()));
        assert_eq!(may_create(false, true), Err(ConsentRefusal::NotParentsChat));
        assert_eq!(may_create(true, false), Err(ConsentRefusal::NotAdmin));
    }

    #[test]
    fn a_guardian_answers_for_their_own_children_before_the_deadline() {
        let form = FormFacts { options: 2, deadline: 100, comment_required: false };
        let mine = [7, 8];
        assert_eq!(check_answer(&form, &mine, 8, 1, None, 99), Ok(Answer { option: 1, comment: None }));
        assert_eq!(check_answer(&form, &mine, 9, 0, None, 99), Err(ConsentRefusal::NotYourChild));
        assert_eq!(check_answer(&form, &mine, 7, 2, None, 99), Err(ConsentRefusal::OutOfRange));
        assert_eq!(check_answer(&form, &mine, 7, -1, None, 99), Err(ConsentRefusal::OutOfRange));
        assert_eq!(check_answer(&form, &mine, 7, 0, None, 100), Err(ConsentRefusal::Closed));
        let long = "я".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(check_answer(&form, &mine, 7, 0, Some(&long), 1), Err(ConsentRefusal::CommentInvalid));
        let required = FormFacts { comment_required: true, ..form };
        assert_eq!(check_answer(&required, &mine, 7, 0, Some("  "), 1), Err(ConsentRefusal::CommentRequired));
        assert_eq!(
            check_answer(&required, &mine, 7, 0, Some(" аллергия "), 1),
            Ok(Answer { option: 0, comment: Some("аллергия".into()) })
        );
    }

    #[test]
    fn an_admin_reopens_until_a_future_deadline() {
        assert_eq!(may_reopen(true, 10, 5), Ok(()));
        assert_eq!(may_reopen(false, 10, 5), Err(ConsentRefusal::NotAdmin));
        assert_eq!(may_reopen(true, 5, 5), Err(ConsentRefusal::DeadlineInPast));
    }
}
