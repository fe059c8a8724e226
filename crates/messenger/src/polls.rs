//! Polls (issue 20): a question (the message's text), 2–10 options, one
//! answer or several, named or anonymous, an optional closing time. A voter
//! changes their vote until the poll closes; its author closes it early.
//! Anonymous means no one — admins included — is ever told who chose what:
//! the server keeps each vote only to let its voter change it.

use crate::MessageText;

pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;
pub const MAX_OPTION_CHARS: usize = 200;
/// A question is shorter than a message: it heads a card.
pub const MAX_QUESTION_CHARS: usize = 500;

/// A poll as its author asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSpec {
    pub question: MessageText,
    pub options: Vec<String>,
    pub multiple: bool,
    pub anonymous: bool,
    pub closes_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("the question is empty")]
    QuestionEmpty,
    #[error("the question is too long or has control characters")]
    QuestionInvalid,
    #[error("a poll has 2 to 10 options")]
    OptionCount,
    #[error("option {0} is empty")]
    OptionEmpty(usize),
    #[error("option {0} is too long or has control characters")]
    OptionInvalid(usize),
    #[error("the closing time has passed")]
    ClosesInPast,
}

impl PollSpec {
    pub fn parse(
        question: &str,
        options: &[String],
        multiple: bool,
        anonymous: bool,
        closes_at: Option<i64>,
        now: i64,
    ) -> Result<PollSpec, PollError> {
        if question.trim().is_empty() {
            return Err(PollError::QuestionEmpty);
        }
        let question = MessageText::parse(question)
            .ok()
            .filter(|q| q.as_str().chars().count() <= MAX_QUESTION_CHARS)
            .ok_or(PollError::QuestionInvalid)?;
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
            return Err(PollError::OptionCount);
        }
        let mut parsed = Vec::with_capacity(options.len());
        for (i, option) in options.iter().enumerate() {
            let option = option.trim();
            if option.is_empty() {
                return Err(PollError::OptionEmpty(i));
            }
            if option.chars().count() > MAX_OPTION_CHARS || option.chars().any(char::is_control) {
                return Err(PollError::OptionInvalid(i));
            }
            parsed.push(option.to_string());
        }
        if closes_at.is_some_and(|at| at <= now) {
            return Err(PollError::ClosesInPast);
        }
        Ok(PollSpec { question, options: parsed, multiple, anonymous, closes_at })
    }
}

/// What the rules need to know about a stored poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollFacts {
    pub options: usize,
    pub multiple: bool,
    pub closes_at: Option<i64>,
    /// Its author closed it early.
    pub closed_at: Option<i64>,
}

impl PollFacts {
    pub fn is_open(&self, now: i64) -> bool {
        self.closed_at.is_none() && self.closes_at.is_none_or(|at| now < at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoteRefusal {
    #[error("the poll is closed")]
    Closed,
    #[error("choose at least one option")]
    Empty,
    #[error("one answer only")]
    OneOnly,
    #[error("no such option")]
    OutOfRange,
    #[error("only the poll's author closes it")]
    NotAuthor,
}

/// The options a vote chooses, each once, in order; or why not.
pub fn check_vote(poll: &PollFacts, choice: &[i64], now: i64) -> Result<Vec<usize>, VoteRefusal> {
    if !poll.is_open(now) {
        return Err(VoteRefusal::Closed);
    }
    let mut chosen = Vec::with_capacity(choice.len());
    for c in choice {
        let i = usize::try_from(*c).ok().filter(|i| *i < poll.options).ok_or(VoteRefusal::OutOfRange)?;
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    match chosen.len() {
        0 => Err(VoteRefusal::Empty),
        n if n > 1 && !poll.multiple => Err(VoteRefusal::OneOnly),
        _ => {
            chosen.sort_unstable();
            Ok(chosen)
        }
    }
}

/// Only the author closes a poll early, and only an open one.
pub fn may_close(poll: &PollFacts, author_is_me: bool, now: i64) -> Result<(), VoteRefusal> {
    if !author_is_me {
        return Err(VoteRefusal::NotAuthor);
    }
    if !poll.is_open(now) {
        return Err(VoteRefusal::Closed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("Вариант {i}")).collect()
    }

    #[test]
    fn a_poll_has_a_question_and_two_to_ten_options() {
        assert!(PollSpec::parse("Когда экскурсия?", &options(2), false, false, None, 0).is_ok());
        assert!(PollSpec::parse("Когда экскурсия?", &options(10), true, true, Some(5), 0).is_ok());
        assert_eq!(PollSpec::parse("  ", &options(2), false, false, None, 0), Err(PollError::QuestionEmpty));
        assert_eq!(PollSpec::parse("?", &options(1), false, false, None, 0), Err(PollError::OptionCount));
        assert_eq!(PollSpec::parse("?", &options(11), false, false, None, 0), Err(PollError::OptionCount));
        let blank = vec!["Да".to_string(), " ".to_string()];
        assert_eq!(PollSpec::parse("?", &blank, false, false, None, 0), Err(PollError::OptionEmpty(1)));
        assert_eq!(PollSpec::parse("?", &options(2), false, false, Some(10), 10), Err(PollError::ClosesInPast));
    }

    #[test]
    fn a_vote_chooses_existing_options_once_while_the_poll_is_open() {
        let single = PollFacts { options: 3, multiple: false, closes_at: Some(100), closed_at: None };
        assert_eq!(check_vote(&single, &[2], 99), Ok(vec![2]));
        assert_eq!(check_vote(&single, &[1, 1], 99), Ok(vec![1]));
        assert_eq!(check_vote(&single, &[0, 1], 99), Err(VoteRefusal::OneOnly));
        assert_eq!(check_vote(&single, &[3], 99), Err(VoteRefusal::OutOfRange));
        assert_eq!(check_vote(&single, &[-1], 99), Err(VoteRefusal::OutOfRange));
        assert_eq!(check_vote(&single, &[], 99), Err(VoteRefusal::Empty));
        assert_eq!(check_vote(&single, &[0], 100), Err(VoteRefusal::Closed));
        let multiple = PollFacts { multiple: true, closes_at: None, ..single };
        assert_eq!(check_vote(&multiple, &[2, 0], 1_000), Ok(vec![0, 2]));
        let closed = PollFacts { closed_at: Some(5), ..multiple };
        assert_eq!(check_vote(&closed, &[0], 6), Err(VoteRefusal::Closed));
    }

    #[test]
    fn only_the_author_closes_an_open_poll() {
        let poll = PollFacts { options: 2, multiple: false, closes_at: None, closed_at: None };
        assert_eq!(may_close(&poll, true, 0), Ok(()));
        assert_eq!(may_close(&poll, false, 0), Err(VoteRefusal::NotAuthor));
        assert_eq!(may_close(&PollFacts { closed_at: Some(1), ..poll }, true, 2), Err(VoteRefusal::Closed));
    }
}
