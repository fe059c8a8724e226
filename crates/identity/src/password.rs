//! Profile passwords (DESIGN §3): Argon2id with the `argon2` crate's default
//! parameters, stored as PHC strings — the same as the portal's, so a hash
//! written by one verifies in the other.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

pub const MIN_LEN: usize = 8;
/// Argon2 takes any length; the cap keeps one request from costing much.
pub const MAX_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password is shorter than {min} characters")]
    TooShort { min: usize },
    #[error("the password is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the password is one character repeated")]
    OneCharacterRepeated,
}

/// Lengths count characters, not bytes: "пароль12" is eight.
pub fn check_strength(password: &str) -> Result<(), WeakPassword> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(WeakPassword::TooShort { min: MIN_LEN });
    }
    if len > MAX_LEN {
        return Err(WeakPassword::TooLong { max: MAX_LEN });
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(WeakPassword::OneCharacterRepeated);
    }
    Ok(())
}

/// Argon2id PHC string with a fresh 128-bit salt. Takes tens of milliseconds of
/// CPU: async callers run it on a blocking thread.
pub fn hash(password: &str, rng: &mut impl RngCore) -> String {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let phc = SaltString::encode_b64(&salt)
        .and_then(|salt| Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()));
    match phc {
        Ok(phc) => phc,
        // A 16-byte salt and the default parameters are always accepted.
        Err(e) => unreachable!("argon2 with default parameters failed: {e}"),
    }
}

/// False for a wrong password and for a stored string that is not a PHC hash.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn a_password_verifies_against_its_argon2id_hash_and_nothing_else_does() {
        let phc = hash("correct horse", &mut StdRng::seed_from_u64(1));
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse", &phc));
        assert!(!verify("correct horsE", &phc));
        assert!(!verify("correct horse", "not a phc string"));
    }

    #[test]
    fn the_same_password_gets_a_different_salt_each_time() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_ne!(hash("correct horse", &mut rng), hash("correct horse", &mut rng));
    }

    #[test]
    fn passwords_shorter_than_eight_characters_are_weak() {
        assert_eq!(check_strength("abc1234"), Err(WeakPassword::TooShort { min: 8 }));
        assert_eq!(check_strength("пароль12"), Ok(()));
    }

    #[test]
    fn passwords_longer_than_256_characters_are_refused() {
        assert_eq!(check_strength(&"ab".repeat(128)), Ok(()));
        assert_eq!(check_strength(&"ab".repeat(129)), Err(WeakPassword::TooLong { max: 256 }));
    }

    #[test]
    fn one_character_repeated_is_weak() {
        assert_eq!(check_strength("aaaaaaaaaa"), Err(WeakPassword::OneCharacterRepeated));
        assert_eq!(check_strength("ааааааааа"), Err(WeakPassword::OneCharacterRepeated));
        assert_eq!(check_strength("aaaaaaaab"), Ok(()));
    }
}
