//! One-time SMS codes (DESIGN §3): six digits, single use, valid five minutes,
//! at most five wrong tries, stored only as a salted SHA-256 hash.

use crate::Phone;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;

pub const CODE_LEN: usize = 6;
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_WRONG_ATTEMPTS: u32 = 5;
pub const RESEND_COOLDOWN: Duration = Duration::from_secs(60);
pub const PHONE_SENDS_PER_HOUR: u32 = 5;
pub const IP_SENDS_PER_HOUR: u32 = 20;

/// A fresh code, `000000`–`999999`, every value equally likely.
pub fn generate(rng: &mut impl RngCore) -> String {
    // `gen_range` rejects the biased tail instead of taking a remainder.
    let n: u32 = rng.gen_range(0..1_000_000);
    format!("{n:06}")
}

/// What the database keeps about a code just sent: never the code itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// 16 random bytes, hex.
    pub salt: String,
    /// SHA-256 hex of salt ‖ phone (E.164) ‖ code.
    pub hash: String,
    pub expires_at: i64,
}

pub fn issue(code: &str, phone: &Phone, now: i64, rng: &mut impl RngCore) -> IssuedCode {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let salt = hex::encode(salt);
    IssuedCode { hash: digest(&salt, phone, code), salt, expires_at: now.saturating_add(CODE_TTL.as_secs() as i64) }
}

/// A code as the database has it when someone types a code in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub hash: String,
    pub salt: String,
    pub expires_at: i64,
    /// Tries counted so far. Storage counts a try *before* the code is
    /// compared, in one conditional update that refuses the sixth: parallel
    /// guesses then cannot all read "four tries left" and all be compared.
    pub tries: u32,
    pub used: bool,
}

/// The outcome of typing a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Wrong {
        remaining: u32,
    },
    /// This try or an earlier one was the fifth wrong one: the code is dead
    /// even if the right digits come next, so guessing stays at five tries.
    Burned,
    Expired,
    AlreadyUsed,
    /// Not six digits: a typo, not a guess, so it costs no attempt.
    Malformed,
}

/// The six digits a person typed; `None` (a typo, [`Verdict::Malformed`])
/// costs no try. People copy codes as "123 456" or with a trailing space.
pub fn parse_input(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == CODE_LEN && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Why a code takes no more tries, or `None` while it does.
pub fn closed(stored: &StoredCode, now: i64) -> Option<Verdict> {
    if stored.used {
        Some(Verdict::AlreadyUsed)
    } else if stored.tries >= MAX_WRONG_ATTEMPTS {
        Some(Verdict::Burned)
    } else if now >= stored.expires_at {
        Some(Verdict::Expired)
    } else {
        None
    }
}

/// Compares a try that storage has already counted (`stored.tries` includes
/// it) with the code sent. A valid try is then marked used by the caller.
pub fn judge(stored: &StoredCode, phone: &Phone, digits: &str) -> Verdict {
    let candidate = digest(&stored.salt, phone, digits);
    // Constant time, so response timing says nothing about how close a guess was.
    if bool::from(candidate.as_bytes().ct_eq(stored.hash.as_bytes())) {
        return Verdict::Valid;
    }
    match MAX_WRONG_ATTEMPTS.saturating_sub(stored.tries) {
        0 => Verdict::Burned,
        remaining => Verdict::Wrong { remaining },
    }
}

/// The hex salt is hashed as text: it has a fixed length, the phone starts
/// with `+` and the code has six digits, so the concatenation is unambiguous,
/// and a damaged salt in the database cannot make checking fail differently.
fn digest(salt: &str, phone: &Phone, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(phone.as_e164().as_bytes());
    h.update(code.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{RngCore, SeedableRng};

    const NOW: i64 = 1_750_000_000;

    fn phone() -> Phone {
        Phone::parse("+79123456789").unwrap()
    }

    /// A try as the server makes it: a typo costs nothing, a closed code
    /// says why, otherwise storage counts the try and then it is judged.
    fn check(stored: &StoredCode, phone: &Phone, input: &str, now: i64) -> Verdict {
        let Some(digits) = parse_input(input) else { return Verdict::Malformed };
        if let Some(verdict) = closed(stored, now) {
            return verdict;
        }
        judge(&StoredCode { tries: stored.tries + 1, ..stored.clone() }, phone, &digits)
    }

    fn stored(code: &str, now: i64) -> StoredCode {
        let issued = issue(code, &phone(), now, &mut StdRng::seed_from_u64(7));
        StoredCode { hash: issued.hash, salt: issued.salt, expires_at: issued.expires_at, tries: 0, used: false }
    }

    /// An rng that always yields zero bits: the smallest code there is.
    struct Zeros;
    impl RngCore for Zeros {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            dest.fill(0);
            Ok(())
        }
    }

    #[test]
    fn codes_are_six_digits_with_leading_zeros_kept() {
        assert_eq!(generate(&mut Zeros), "000000");
        let mut rng = StdRng::seed_from_u64(42);
        let codes: Vec<String> = (0..2_000).map(|_| generate(&mut rng)).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.iter().any(|c| c.starts_with('0')), "one code in ten starts with 0");
    }

    #[test]
    fn generated_codes_spread_over_all_leading_digits() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[usize::from(generate(&mut rng).as_bytes()[0] - b'0')] += 1;
        }
        assert!(counts.iter().all(|n| (800..1200).contains(n)), "{counts:?}");
    }

    #[test]
    fn the_code_itself_is_not_stored() {
        let issued = issue("123456", &phone(), NOW, &mut StdRng::seed_from_u64(1));
        assert!(!issued.hash.contains("123456") && !issued.salt.contains("123456"));
        assert_eq!(issued.salt.len(), 32);
        assert_eq!(issued.expires_at, NOW + 300);
    }

    #[test]
    fn the_same_code_hashes_differently_each_time() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = issue("123456", &phone(), NOW, &mut rng);
        let b = issue("123456", &phone(), NOW, &mut rng);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn the_right_code_is_valid_even_with_spaces() {
        let code = stored("012345", NOW);
        assert_eq!(check(&code, &phone(), "012345", NOW + 10), Verdict::Valid);
        assert_eq!(check(&code, &phone(), " 012 345 ", NOW + 10), Verdict::Valid);
    }

    #[test]
    fn a_code_sent_to_one_phone_is_wrong_for_another() {
        let code = stored("123456", NOW);
        let other = Phone::parse("+79123456780").unwrap();
        assert_eq!(check(&code, &other, "123456", NOW), Verdict::Wrong { remaining: 4 });
    }

    #[test]
    fn a_wrong_code_tells_how_many_tries_remain() {
        let mut code = stored("123456", NOW);
        for (attempts, remaining) in [(0, 4), (1, 3), (2, 2), (3, 1)] {
            code.tries = attempts;
            assert_eq!(check(&code, &phone(), "654321", NOW), Verdict::Wrong { remaining });
        }
    }

    #[test]
    fn the_fifth_wrong_attempt_burns_the_code() {
        let mut code = stored("123456", NOW);
        code.tries = 4;
        assert_eq!(check(&code, &phone(), "654321", NOW), Verdict::Burned);
        code.tries = 5;
        assert_eq!(check(&code, &phone(), "123456", NOW), Verdict::Burned);
    }

    #[test]
    fn a_code_is_refused_after_five_minutes() {
        let code = stored("123456", NOW);
        assert_eq!(check(&code, &phone(), "123456", NOW + 299), Verdict::Valid);
        assert_eq!(check(&code, &phone(), "123456", NOW + 300), Verdict::Expired);
        assert_eq!(check(&code, &phone(), "123456", NOW + 3600), Verdict::Expired);
    }

    #[test]
    fn a_used_code_is_refused() {
        let mut code = stored("123456", NOW);
        code.used = true;
        assert_eq!(check(&code, &phone(), "123456", NOW), Verdict::AlreadyUsed);
    }

    #[test]
    fn anything_but_six_digits_is_malformed_and_costs_no_try() {
        let code = stored("123456", NOW);
        for input in ["", "12345", "1234567", "12345a", "１２３４５６", "-12345"] {
            assert_eq!(check(&code, &phone(), input, NOW), Verdict::Malformed, "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn a_generated_code_checks_valid_and_any_other_six_digits_wrong(seed: u64, other in 0u32..1_000_000) {
            let mut rng = StdRng::seed_from_u64(seed);
            let code = generate(&mut rng);
            let issued = issue(&code, &phone(), NOW, &mut rng);
            let stored = StoredCode {
                hash: issued.hash,
                salt: issued.salt,
                expires_at: issued.expires_at,
                tries: 0,
                used: false,
            };
            prop_assert_eq!(check(&stored, &phone(), &code, NOW), Verdict::Valid);
            let other = format!("{other:06}");
            prop_assume!(other != code);
            prop_assert_eq!(check(&stored, &phone(), &other, NOW), Verdict::Wrong { remaining: MAX_WRONG_ATTEMPTS - 1 });
        }
    }
}
