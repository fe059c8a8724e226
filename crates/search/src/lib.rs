//! Russian text for full-text search, the same on both sides of the index:
//! what a message is stored as and what a query looks for.
//!
//! A text is split into words (letters and digits; everything else
//! separates), each word is folded (lower case, `ё` → `е`) and stemmed with
//! the Snowball stemmer of its script (Russian for Cyrillic, English for
//! Latin), so «Урока», «уроки» and «урок» are one term. A query is parsed the
//! same way into at most [`MAX_TERMS`] terms; [`snippet`] finds them again in
//! a message's text and marks them.
//!
//! Architecture invariant: pure — no IO, no database. Storage calls
//! [`terms`] when it indexes and [`Query::parse`] when it searches; both
//! backends (SQLite FTS5 and PostgreSQL's `russian` configuration) receive
//! folded text from here, so «ёлка» finds «елка» on either.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;

/// A query longer than this is refused rather than cut: it is not a search
/// somebody typed.
pub const MAX_QUERY_CHARS: usize = 500;
/// Words of a query beyond this are ignored.
pub const MAX_TERMS: usize = 12;
/// A word longer than this is cut before stemming (no real word is; a
/// 10,000-letter "word" must not make a 10,000-byte term).
pub const MAX_WORD_CHARS: usize = 40;

/// Lower case with `ё` folded into `е` (and `Ё` into `е`).
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).map(|c| if c == 'ё' { 'е' } else { c }).collect()
}

/// A word of a text: where it is (byte offsets into the original) and what it
/// folds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub folded: String,
}

/// The words of a text, in order. A word is a run of letters, digits and
/// combining marks (so «й» written as «и» + breve stays one word); marks
/// alone are no word.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || is_combining(c);
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.extend(word(text, s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.extend(word(text, s, text.len()));
    }
    out
}

fn word(text: &str, start: usize, end: usize) -> Option<Word> {
    let folded: String = fold(&text[start..end]).chars().filter(|c| !is_combining(*c)).take(MAX_WORD_CHARS).collect();
    (!folded.is_empty()).then_some(Word { start, end, folded })
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

fn russian() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::Russian))
}

fn english() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// The search term of a folded word: its stem in its script.
pub fn stem(folded: &str) -> String {
    let cyrillic = folded.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    let latin = folded.chars().any(|c| c.is_ascii_alphabetic());
    if cyrillic {
        russian().stem(folded).into_owned()
    } else if latin {
        english().stem(folded).into_owned()
    } else {
        folded.to_string()
    }
}

/// Every term of a text, in order (repeats kept): what the index stores.
pub fn terms(text: &str) -> Vec<String> {
    words(text).into_iter().map(|w| stem(&w.folded)).filter(|t| !t.is_empty()).collect()
}

/// Text folded word by word, for a backend that stems itself (PostgreSQL's
/// `russian` configuration): the words joined by spaces, `ё` already `е`.
pub fn folded_words(text: &str) -> String {
    words(text).into_iter().map(|w| w.folded).collect::<Vec<_>>().join(" ")
}

/// Function words a query does not need to contain to match (PostgreSQL's
/// `russian` configuration drops them too). A query of nothing else keeps them.
const STOP_WORDS: &[&str] = &[
    "и",
    "в",
    "во",
    "не",
    "что",
    "он",
    "на",
    "я",
    "с",
    "со",
    "как",
    "а",
    "то",
    "все",
    "она",
    "так",
    "его",
    "но",
    "да",
    "ты",
    "к",
    "у",
    "же",
    "вы",
    "за",
    "бы",
    "по",
    "только",
    "ее",
    "мне",
    "было",
    "вот",
    "от",
    "меня",
    "еще",
    "нет",
    "о",
    "из",
    "ему",
    "ли",
    "если",
    "или",
    "ни",
    "быть",
    "был",
    "до",
    "вас",
    "нибудь",
    "уже",
    "для",
    "мы",
    "тебя",
    "их",
    "чем",
    "была",
    "сам",
    "чтоб",
    "без",
    "будто",
    "чего",
    "раз",
    "тоже",
    "себе",
    "под",
    "будет",
    "ж",
    "тогда",
    "кто",
    "этот",
    "того",
    "потому",
    "этого",
    "какой",
    "ним",
    "здесь",
    "этом",
    "один",
    "мой",
    "тем",
    "чтобы",
    "нее",
    "были",
    "где",
    "есть",
    "надо",
    "ней",
    "при",
    "об",
    "это",
    "эти",
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "and",
    "or",
];

pub fn is_stop_word(folded: &str) -> bool {
    STOP_WORDS.contains(&folded)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Nothing to search for: empty, or only punctuation and spaces.
    NoWords,
    /// Longer than [`MAX_QUERY_CHARS`].
    TooLong { max: usize },
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::NoWords => f.write_str("the query has no words"),
            QueryError::TooLong { max } => write!(f, "the query is longer than {max} characters"),
        }
    }
}

impl std::error::Error for QueryError {}

/// A parsed query: every term must be in a message for it to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Stems, distinct, in the order typed; never empty.
    terms: Vec<String>,
    /// The same words folded but not stemmed, for a backend that stems.
    folded: Vec<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Result<Query, QueryError> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong { max: MAX_QUERY_CHARS });
        }
        let all = words(raw);
        let significant: Vec<&Word> = all.iter().filter(|w| !is_stop_word(&w.folded)).collect();
        let chosen: Vec<&Word> = if significant.is_empty() { all.iter().collect() } else { significant };
        let mut terms = Vec::new();
        let mut folded = Vec::new();
        for w in chosen {
            let t = stem(&w.folded);
            if !t.is_empty() && !terms.contains(&t) {
                terms.push(t);
                folded.push(w.folded.clone());
            }
            if terms.len() == MAX_TERMS {
                break;
            }
        }
        if terms.is_empty() {
            return Err(QueryError::NoWords);
        }
        Ok(Query { terms, folded })
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The query's words folded (not stemmed), joined by spaces.
    pub fn folded(&self) -> String {
        self.folded.join(" ")
    }

    fn matches(&self, w: &Word) -> bool {
        let t = stem(&w.folded);
        self.terms.contains(&t)
    }
}

/// A piece of a message around the words that matched, with their places.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    /// Byte ranges of `text` that matched, in order, not overlapping.
    pub marks: Vec<(usize, usize)>,
}

impl Snippet {
    /// The snippet as HTML: the text escaped, matches in `<mark>`.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 16 * self.marks.len());
        let mut at = 0;
        for &(start, end) in &self.marks {
            escape_into(&mut out, &self.text[at..start]);
            out.push_str("<mark>");
            escape_into(&mut out, &self.text[start..end]);
            out.push_str("</mark>");
            at = end;
        }
        escape_into(&mut out, &self.text[at..]);
        out
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// At most `max_chars` characters of `text` (whitespace runs as one space)
/// around its first match, starting at a word, with every match inside
/// marked; "…" where it was cut.
pub fn snippet(text: &str, query: &Query, max_chars: usize) -> Snippet {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let all = words(&flat);
    let first = all.iter().position(|w| query.matches(w));
    // Start a few words before the first match, so it has some context.
    let start_word = first.map_or(0, |i| i.saturating_sub(4));
    let start = if start_word == 0 { 0 } else { all.get(start_word).map_or(0, |w| w.start) };
    let end = flat[start..].char_indices().nth(max_chars).map_or(flat.len(), |(i, _)| start + i);
    let mut out = Snippet::default();
    if start > 0 {
        out.text.push('…');
    }
    let offset = out.text.len();
    out.text.push_str(&flat[start..end]);
    for w in all.iter().filter(|w| w.start >= start && w.end <= end && query.matches(w)) {
        out.marks.push((w.start - start + offset, w.end - start + offset));
    }
    if end < flat.len() {
        out.text.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_of_one_word_are_one_term() {
        let t = terms("Урок, урока, уроки; УРОКАМИ и уроку!");
        assert_eq!(t.iter().filter(|t| *t == "урок").count(), 5, "{t:?}");
        assert_eq!(stem("экскурсия"), stem("экскурсии"));
        assert_eq!(stem("экскурсию"), stem("экскурсиях"));
        assert_eq!(stem("домашнее"), stem("домашнего"));
    }

    #[test]
    fn yo_and_ye_are_the_same_letter() {
        assert_eq!(fold("Ёлка ЁЖ"), "елка еж");
        assert_eq!(terms("ёлка"), terms("елка"));
        assert_eq!(terms("Всё"), terms("все"));
    }

    #[test]
    fn case_is_folded_in_cyrillic_and_latin() {
        assert_eq!(terms("ПРИВЕТ Hello"), terms("привет hello"));
        assert_eq!(stem("lessons"), stem("lesson"));
    }

    #[test]
    fn punctuation_and_spaces_separate_words_and_digits_are_words() {
        let w: Vec<String> = words("«Кружок» — в 15:30, каб.№204!").into_iter().map(|w| w.folded).collect();
        assert_eq!(w, ["кружок", "в", "15", "30", "каб", "204"]);
        let w = words("из-за");
        assert_eq!(w.len(), 2);
        assert_eq!((w[1].start, w[1].end), (5, 9), "byte offsets into the original");
    }

    #[test]
    fn a_combining_breve_does_not_split_a_word() {
        let decomposed = "и\u{0306}од"; // «йод» with a combining breve
        assert_eq!(words(decomposed).len(), 1);
    }

    #[test]
    fn a_combining_mark_alone_is_no_word_and_does_not_hide_the_words_beside_it() {
        // Found by fuzzing: the mark counted as a word that was not a function
        // word, so «a» was dropped as one and the query had no words left.
        assert!(words("\u{306}").is_empty());
        assert_eq!(Query::parse("\u{306}\ta").unwrap().terms(), Query::parse("a").unwrap().terms());
    }

    #[test]
    fn a_query_of_punctuation_only_has_no_words() {
        assert_eq!(Query::parse("?!... — ,,, ;"), Err(QueryError::NoWords));
        assert_eq!(Query::parse(""), Err(QueryError::NoWords));
        assert_eq!(Query::parse("   "), Err(QueryError::NoWords));
    }

    #[test]
    fn a_query_of_ten_thousand_characters_is_refused_and_a_long_word_is_cut() {
        let long = "а".repeat(10_000);
        assert_eq!(Query::parse(&long), Err(QueryError::TooLong { max: MAX_QUERY_CHARS }));
        let q = Query::parse(&"б".repeat(400)).unwrap();
        assert!(q.terms()[0].chars().count() <= MAX_WORD_CHARS);
        assert!(terms(&"в".repeat(10_000))[0].chars().count() <= MAX_WORD_CHARS);
    }

    #[test]
    fn a_query_drops_function_words_and_repeats_and_keeps_at_most_max_terms() {
        let q = Query::parse("урок в пятницу, уроки").unwrap();
        assert_eq!(q.terms(), [stem("урок"), stem("пятницу")]);
        assert_eq!(Query::parse("и в на").unwrap().terms().len(), 3, "only function words: keep them");
        let many: String = (0..30).map(|i| format!("слово{i} ")).collect();
        assert_eq!(Query::parse(&many).unwrap().terms().len(), MAX_TERMS);
        assert_eq!(Query::parse("Ёлку").unwrap().folded(), "елку");
    }

    #[test]
    fn a_snippet_marks_other_word_forms_and_escapes_html() {
        let q = Query::parse("урок").unwrap();
        let s = snippet("<b>уроки</b> & Урока нет", &q, 100);
        assert_eq!(s.to_html(), "&lt;b&gt;<mark>уроки</mark>&lt;/b&gt; &amp; <mark>Урока</mark> нет");
    }

    #[test]
    fn a_snippet_of_a_long_text_is_cut_around_the_first_match() {
        let q = Query::parse("экскурсия").unwrap();
        let text = format!("{} Завтра экскурсия в музей. {}", "слово ".repeat(100), "ещё ".repeat(100));
        let s = snippet(&text, &q, 60);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'), "{}", s.text);
        assert!(s.text.chars().count() <= 62);
        assert_eq!(s.marks.len(), 1);
        let (a, b) = s.marks[0];
        assert_eq!(&s.text[a..b], "экскурсия");
    }

    #[test]
    fn a_snippet_without_a_match_is_the_start_of_the_text() {
        let q = Query::parse("музей").unwrap();
        let s = snippet("Короткий текст", &q, 50);
        assert_eq!(s, Snippet { text: "Короткий текст".into(), marks: vec![] });
    }

    // Fuzzing: any text and any query. `PROPTEST_CASES=100000` runs it longer.
    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        /// Text people type, and text nobody types: letters of both scripts,
        /// combining marks, digits, punctuation, markup, whitespace, anything.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof!["[а-яА-ЯёЁa-zA-Z0-9 ,.!?«»—\\-\u{0301}\u{0306}\t\n<>&]{0,80}", any::<String>(), "\\PC{0,600}",]
        }

        proptest! {
            #[test]
            fn parsing_any_query_never_panics_and_keeps_its_promises(raw in text()) {
                match Query::parse(&raw) {
                    Ok(q) => {
                        prop_assert!(!q.terms().is_empty() && q.terms().len() <= MAX_TERMS);
                        prop_assert!(q.terms().iter().all(|t| !t.is_empty()));
                        prop_assert_eq!(Query::parse(&q.folded()).map(|again| again.terms().to_vec()), Ok(q.terms().to_vec()));
                    }
                    Err(QueryError::TooLong { .. }) => prop_assert!(raw.chars().count() > MAX_QUERY_CHARS),
                    Err(QueryError::NoWords) => prop_assert!(terms(&raw).is_empty()),
                }
            }

            #[test]
            fn words_are_slices_of_the_text_at_character_boundaries(raw in text()) {
                for w in words(&raw) {
                    prop_assert!(w.start < w.end && raw.is_char_boundary(w.start) && raw.is_char_boundary(w.end));
                    prop_assert!(w.folded.chars().count() <= MAX_WORD_CHARS);
                }
            }

            #[test]
            fn a_snippet_of_any_text_marks_whole_matches_inside_itself(raw in text(), query in text(), max in 0usize..200) {
                let Ok(q) = Query::parse(&query) else { return Ok(()) };
                let s = snippet(&raw, &q, max);
                let mut at = 0;
                for &(start, end) in &s.marks {
                    prop_assert!(at <= start && start < end && end <= s.text.len());
                    prop_assert!(s.text.is_char_boundary(start) && s.text.is_char_boundary(end));
                    at = end;
                }
                let html = s.to_html();
                prop_assert!(!html.replace("<mark>", "").replace("</mark>", "").contains(['<', '>']));
            }
        }
    }
}
