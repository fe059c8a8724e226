//! Bearer tokens: messenger sessions and one-time sign-in links. The database
//! keeps only their SHA-256, so a leaked table signs nobody in.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits as 64 hex characters: safe in URLs and cookies as they are,
/// and the same shape as the portal's session tokens.
pub fn new_token(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 hex. A plain hash is enough: the token has 256 bits of entropy, so
/// there is nothing for a salt or a slow hash to protect.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn tokens_are_256_bits_of_hex_and_differ() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = new_token(&mut rng);
        let b = new_token(&mut rng);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_token_hash_is_stable_sha256_hex() {
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(hash("abc"), "abc");
    }
}
