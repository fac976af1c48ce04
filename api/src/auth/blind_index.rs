//! The keyed blind index of email addresses: a 32-byte value the database can look up and hold
//! unique, from which nobody without the server key can recover or even test an address.
//!
//! This module owns the normalization that decides which spellings are the same account. It
//! must not store, log or return the address itself.

use std::fmt;

use vigil_domain::values::EmailAddress;
use zeroize::Zeroizing;

use super::AuthError;
use super::secret_key::SecretKey;

/// Domain separation: an index computed for emails can never collide with a future index of
/// another kind (say, handles) under the same key. The NUL ends the label unambiguously.
const EMAIL_INDEX_LABEL: &[u8] = b"vigil email blind index v1\0";

/// The server secret that keys the blind index. Losing it makes every account unfindable by
/// email; leaking it lets a copy of the database be tested against guessed addresses.
#[derive(Clone)]
pub struct BlindIndexKey {
    key: SecretKey,
}

impl BlindIndexKey {
    /// The context to pass to the event store's `system_secret` so the key is derived from
    /// vault-held material and stays stable for the life of the store.
    pub const STORE_CONTEXT: &'static str = "vigil blind index key v1";

    /// Wraps 32 bytes of key material (for example a store system secret).
    pub fn new(bytes: Zeroizing<[u8; 32]>) -> Self {
        BlindIndexKey {
            key: SecretKey::new(bytes),
        }
    }

    /// Parses standard base64 of exactly 32 bytes.
    ///
    /// # Errors
    /// [`AuthError::InvalidKey`] saying what is wrong, without the key.
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        Ok(BlindIndexKey {
            key: SecretKey::from_base64(text, "the blind index key")?,
        })
    }

    /// A fresh random key, for tests and throwaway dev stores.
    ///
    /// # Errors
    /// [`AuthError::Randomness`] when the OS generator fails.
    pub fn generate() -> Result<Self, AuthError> {
        Ok(BlindIndexKey {
            key: SecretKey::generate()?,
        })
    }

    /// The index of `email`: keyed blake3 over a label and the normalized address.
    ///
    /// Two spellings that reach the same mailbox in practice give the same index: the address
    /// is trimmed (by [`EmailAddress::parse`]) and lowercased here. Lowercasing the local part
    /// goes beyond RFC 5321, which lets a server treat it case-sensitively, but no mainstream
    /// provider does, and two accounts for `Ann@x.org` and `ann@x.org` would be a worse
    /// surprise. Nothing else is folded (no dot or `+tag` removal): those are
    /// provider-specific and would merge distinct mailboxes elsewhere.
    pub fn email_index(&self, email: &EmailAddress) -> [u8; 32] {
        let normalized = Zeroizing::new(email.expose_secret().to_lowercase());
        let mut hasher = blake3::Hasher::new_keyed(self.key.bytes());
        hasher.update(EMAIL_INDEX_LABEL);
        hasher.update(normalized.as_bytes());
        *hasher.finalize().as_bytes()
    }
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> BlindIndexKey {
        BlindIndexKey::new(Zeroizing::new([byte; 32]))
    }

    fn email(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    #[test]
    fn the_same_address_in_another_case_or_with_surrounding_spaces_has_the_same_index() {
        let key = key(1);
        let expected = key.email_index(&email("ann.smith@example.org"));
        for spelling in [
            "Ann.Smith@Example.ORG",
            "  ann.smith@example.org\t",
            "ANN.SMITH@EXAMPLE.ORG",
        ] {
            assert_eq!(key.email_index(&email(spelling)), expected, "{spelling}");
        }
    }

    #[test]
    fn different_addresses_have_different_indexes() {
        let key = key(1);
        let a = key.email_index(&email("ann@example.org"));
        for other in [
            "ann+tag@example.org",
            "a.nn@example.org",
            "ann@example.com",
            "bob@example.org",
        ] {
            assert_ne!(key.email_index(&email(other)), a, "{other}");
        }
    }

    #[test]
    fn the_same_address_under_different_keys_has_different_indexes() {
        let address = email("ann@example.org");
        assert_ne!(key(1).email_index(&address), key(2).email_index(&address));
    }

    #[test]
    fn the_index_is_stable_and_is_not_a_plain_keyed_hash_of_the_address() {
        let key = key(9);
        let address = email("ann@example.org");
        assert_eq!(key.email_index(&address), key.email_index(&address));
        // The label separates this index from any other keyed hash of the same text.
        let unlabelled = blake3::keyed_hash(&[9; 32], b"ann@example.org");
        assert_ne!(&key.email_index(&address), unlabelled.as_bytes());
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        assert_eq!(format!("{:?}", key(0x41)), "BlindIndexKey(<redacted>)");
    }

    #[test]
    fn a_key_from_base64_must_be_exactly_32_bytes() {
        assert!(BlindIndexKey::from_base64("AAAA").is_err());
        assert!(BlindIndexKey::from_base64(&base64_of([5; 32])).is_ok());
    }

    fn base64_of(bytes: [u8; 32]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}
