//! The 32-byte server secret shared by the token key and the blind-index key: parsing it from
//! configuration, generating one, and keeping it out of logs and memory dumps.
//!
//! It must not know what the key is used for; the typed wrappers in `tokens`
//! do, so one key cannot be passed where the other is expected.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::AuthError;

/// Exactly 256 bits of key material, wiped from memory on drop.
#[derive(Clone)]
pub(super) struct SecretKey {
    bytes: Zeroizing<[u8; SecretKey::LEN]>,
}

impl SecretKey {
    /// Key length in bytes.
    pub(super) const LEN: usize = 32;

    pub(super) fn new(bytes: Zeroizing<[u8; Self::LEN]>) -> Self {
        SecretKey { bytes }
    }

    /// Parses standard base64 of exactly 32 bytes (what `head -c 32 /dev/urandom | base64`
    /// prints); surrounding whitespace, such as a file's trailing newline, is ignored.
    pub(super) fn from_base64(text: &str, what: &'static str) -> Result<Self, AuthError> {
        let decoded = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| AuthError::InvalidKey {
            what,
            reason:
                "not valid base64 (expected 32 random bytes in base64, e.g. `head -c 32 /dev/urandom | base64`)".into(),
        })?);
        Self::from_slice(&decoded, what)
    }

    /// Takes exactly 32 bytes.
    pub(super) fn from_slice(bytes: &[u8], what: &'static str) -> Result<Self, AuthError> {
        if bytes.len() != Self::LEN {
            return Err(AuthError::InvalidKey {
                what,
                reason: format!(
                    "it is {} bytes long; it must be exactly {} bytes",
                    bytes.len(),
                    Self::LEN
                ),
            });
        }
        let mut array = Zeroizing::new([0u8; Self::LEN]);
        array.copy_from_slice(bytes);
        Ok(SecretKey::new(array))
    }

    pub(super) fn bytes(&self) -> &[u8; Self::LEN] {
        &self.bytes
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_exactly_32_bytes_is_accepted_with_surrounding_whitespace() {
        let text = format!("  {}\n", STANDARD.encode([7u8; 32]));
        let key = SecretKey::from_base64(&text, "the test key").unwrap();
        assert_eq!(key.bytes(), &[7u8; 32]);
    }

    #[test]
    fn a_key_of_the_wrong_length_is_rejected_with_its_length_and_not_its_value() {
        for len in [0usize, 16, 31, 33, 64] {
            let err = SecretKey::from_base64(&STANDARD.encode(vec![0xAB; len]), "the test key").unwrap_err();
            let text = err.to_string();
            assert!(text.contains(&format!("{len} bytes long")), "{text}");
            assert!(text.starts_with("the test key is invalid"), "{text}");
        }
    }

    #[test]
    fn text_that_is_not_base64_is_rejected() {
        let err = SecretKey::from_base64("not base64 at all!", "the test key").unwrap_err();
        assert!(matches!(err, AuthError::InvalidKey { .. }));
        assert!(err.to_string().contains("not valid base64"));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = SecretKey::from_slice(&[0x41; 32], "the test key").unwrap();
        let printed = format!("{key:?}");
        assert_eq!(printed, "SecretKey(<redacted>)");
    }
}
