use crate::KeyError;
use base64ct::{Base64UrlUnpadded, Encoding};
use web_push_native::jwt_simple::algorithms::{ECDSAP256KeyPairLike, ES256KeyPair};

/// The server's VAPID key pair (P-256). Browsers bind a subscription to its
/// public half, so changing it silently would strand every subscription:
/// it is made once, at first start, and stored.
pub struct VapidKey {
    pair: ES256KeyPair,
}

impl VapidKey {
    pub fn generate() -> VapidKey {
        VapidKey { pair: ES256KeyPair::generate() }
    }

    /// The private key as stored or configured: the 32-byte scalar in base64url.
    pub fn from_base64(encoded: &str) -> Result<VapidKey, KeyError> {
        let raw = Base64UrlUnpadded::decode_vec(encoded.trim().trim_end_matches('='))
            .map_err(|_| KeyError::Malformed("text that is not base64url".into()))?;
        if raw.len() != 32 {
            return Err(KeyError::Malformed(format!("{} bytes", raw.len())));
        }
        let pair = ES256KeyPair::from_bytes(&raw).map_err(|_| KeyError::Malformed("a scalar off the curve".into()))?;
        Ok(VapidKey { pair })
    }

    /// The private key for storage; never logged.
    pub fn to_base64(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.pair.to_bytes())
    }

    /// The uncompressed public point in base64url: the `applicationServerKey`
    /// a page passes to `pushManager.subscribe` (`GET /api/push/key`).
    pub fn public_base64(&self) -> String {
        let public = self.pair.key_pair().public_key().to_bytes_uncompressed();
        Base64UrlUnpadded::encode_string(&public)
    }

    pub(crate) fn pair(&self) -> &ES256KeyPair {
        &self.pair
    }
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public_base64()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_key_comes_back_as_the_same_key() {
        let key = VapidKey::generate();
        let again = VapidKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.public_base64(), key.public_base64());
    }

    #[test]
    fn the_public_key_is_an_uncompressed_p256_point() {
        let public = Base64UrlUnpadded::decode_vec(&VapidKey::generate().public_base64()).unwrap();
        assert_eq!((public.len(), public[0]), (65, 0x04));
    }

    #[test]
    fn a_malformed_private_key_is_refused_with_what_was_wrong() {
        assert!(matches!(VapidKey::from_base64("not base64!"), Err(KeyError::Malformed(_))));
        let short = VapidKey::from_base64("AAAA").unwrap_err();
        assert_eq!(short, KeyError::Malformed("3 bytes".into()));
    }

    #[test]
    fn debug_shows_only_the_public_half() {
        let key = VapidKey::generate();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_base64()));
        assert!(!shown.contains(&key.to_base64()));
    }
}
