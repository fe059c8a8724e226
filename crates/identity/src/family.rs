//! One Parta ID is one human (DESIGN §2), and children without a phone get a
//! profile a guardian makes for them.
//!
//! A family often has one phone. Linking a second person's school account to
//! the Parta ID that phone already has would put the second person's chats into
//! the first person's messenger: a child's messenger would list the staff room.
//! So a Parta ID may hold several school accounts only when they are one
//! human's: the same person in several organisations, or an adult's several
//! roles (teacher, other staff, parent) — adults who are one person in real
//! life may have been entered twice in the roster. A student's school account
//! never shares a Parta ID with anybody else's.
//!
//! This module decides; storage loads the facts (who already holds the Parta
//! ID) in the transaction that links, and the server explains a refusal.

use rand::Rng;
use rand::RngCore;

/// A school account that holds, or asks to join, a Parta ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// The person (school account); the same person in two schools is one id.
    pub person_id: i64,
    /// A student in the organisation of the link.
    pub student: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SharingRefusal {
    /// A student asks to join an adult's Parta ID (a parent's phone).
    #[error("a student's school account cannot join an adult's Parta ID")]
    StudentIntoAdults,
    /// An adult asks to join a student's Parta ID (the child's own phone).
    #[error("an adult's school account cannot join a student's Parta ID")]
    AdultIntoStudents,
    /// Two children on one phone (siblings).
    #[error("two students cannot share one Parta ID")]
    TwoStudents,
}

/// May `joining` be linked to the Parta ID that `holders` already hold?
pub fn may_join(holders: &[Holder], joining: Holder) -> Result<(), SharingRefusal> {
    let others = holders.iter().filter(|h| h.person_id != joining.person_id);
    let mut refusals = others.filter_map(|holder| match (holder.student, joining.student) {
        (true, true) => Some(SharingRefusal::TwoStudents),
        (true, false) => Some(SharingRefusal::AdultIntoStudents),
        (false, true) => Some(SharingRefusal::StudentIntoAdults),
        (false, false) => None,
    });
    refusals.next().map_or(Ok(()), Err)
}

/// Whether the holders of one Parta ID break the rule (databases from before
/// the rule may hold such mixes: they are reported, never changed silently).
pub fn is_mixed(holders: &[Holder]) -> bool {
    holders.iter().enumerate().any(|(i, h)| may_join(&holders[..i], *h).is_err())
}

/// How long a code that signs a child in on a new device stays valid.
pub const CHILD_CODE_TTL_SECS: i64 = 10 * 60;
/// Letters and digits a child copies without confusing them (no 0/O, 1/I/L).
const CHILD_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CHILD_CODE_LEN: usize = 8;

/// A fresh sign-in code for a child's device: eight characters, about 40
/// bits — with wrong tries limited per network address and a ten-minute life,
/// far beyond guessing. Shown as `ABCD-EFGH`.
pub fn child_code(rng: &mut impl RngCore) -> String {
    (0..CHILD_CODE_LEN).map(|_| char::from(CHILD_CODE_ALPHABET[rng.gen_range(0..CHILD_CODE_ALPHABET.len())])).collect()
}

/// `ABCD-EFGH` for reading aloud or copying.
pub fn display_child_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(CHILD_CODE_LEN / 2));
    if b.is_empty() { a.to_string() } else { format!("{a}-{b}") }
}

/// What a child typed, as the code was issued: case, spaces and the dash do
/// not matter. `None` when it cannot be a code at all, so a typo (a character
/// the alphabet lacks, a missing one) costs no try.
pub fn normalize_child_code(input: &str) -> Option<String> {
    let code: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == CHILD_CODE_LEN && code.bytes().all(|b| CHILD_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The wording a guardian agrees to when making a child's profile, kept with
/// the consent (152-ФЗ art. 9: a legal representative consents for a child
/// under 14). A new wording gets a new version; the old ones stay valid for the
/// consents given under them.
pub const CHILD_CONSENT_VERSION: &str = "2026-12";
pub const CHILD_CONSENT_TEXT: &str = "Я являюсь законным представителем ребёнка и даю согласие на обработку его \
персональных данных (фамилия, имя, отчество, школа и класс, сообщения, файлы и звонки в школьных чатах) в Parta \
для участия ребёнка в чатах и звонках его школы. Я понимаю, что ребёнок будет видеть чаты своего класса и \
предметов, а я не буду читать его переписку; я могу в любой момент отвязать профиль ребёнка и удалить его.";

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const FATHER: Holder = Holder { person_id: 1, student: false };
    const TEACHER: Holder = Holder { person_id: 2, student: false };
    const DAUGHTER: Holder = Holder { person_id: 3, student: true };
    const SON: Holder = Holder { person_id: 4, student: true };

    #[test]
    fn a_first_school_account_may_always_join() {
        assert_eq!(may_join(&[], DAUGHTER), Ok(()));
        assert_eq!(may_join(&[], FATHER), Ok(()));
    }

    #[test]
    fn adults_may_share_one_parta_id() {
        assert_eq!(may_join(&[FATHER], TEACHER), Ok(()));
    }

    #[test]
    fn a_student_never_joins_an_adults_parta_id() {
        assert_eq!(may_join(&[FATHER], DAUGHTER), Err(SharingRefusal::StudentIntoAdults));
        assert_eq!(may_join(&[FATHER, TEACHER], DAUGHTER), Err(SharingRefusal::StudentIntoAdults));
    }

    #[test]
    fn an_adult_never_joins_a_students_parta_id() {
        assert_eq!(may_join(&[DAUGHTER], TEACHER), Err(SharingRefusal::AdultIntoStudents));
    }

    #[test]
    fn siblings_never_share_one_parta_id() {
        assert_eq!(may_join(&[DAUGHTER], SON), Err(SharingRefusal::TwoStudents));
    }

    #[test]
    fn the_same_student_in_a_second_school_is_the_same_human() {
        let music_school = Holder { person_id: DAUGHTER.person_id, student: true };
        assert_eq!(may_join(&[DAUGHTER], music_school), Ok(()));
    }

    #[test]
    fn mixes_made_before_the_rule_are_recognised() {
        assert!(!is_mixed(&[FATHER, TEACHER]));
        assert!(!is_mixed(&[DAUGHTER]));
        assert!(is_mixed(&[DAUGHTER, FATHER]));
        assert!(is_mixed(&[FATHER, TEACHER, DAUGHTER]));
        assert!(is_mixed(&[DAUGHTER, SON]));
    }

    #[test]
    fn child_codes_are_eight_unambiguous_characters() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..500 {
            let code = child_code(&mut rng);
            assert_eq!(code.len(), 8);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
            assert_eq!(normalize_child_code(&code), Some(code.clone()));
        }
    }

    #[test]
    fn a_child_may_type_the_code_in_lower_case_with_a_dash_or_spaces() {
        assert_eq!(display_child_code("ABCDEFGH"), "ABCD-EFGH");
        assert_eq!(normalize_child_code("abcd-efgh"), Some("ABCDEFGH".into()));
        assert_eq!(normalize_child_code(" ab cd ef gh "), Some("ABCDEFGH".into()));
    }

    #[test]
    fn what_cannot_be_a_code_is_not_a_try() {
        for input in ["", "ABCDEFG", "ABCDEFGHJ", "ABCD0FGH", "ABCDÉFGH", "123456"] {
            assert_eq!(normalize_child_code(input), None, "{input:?}");
        }
    }
}
