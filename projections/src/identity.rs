//! Blind indexes: how an email address or handle is looked up and kept unique without the
//! address ever being stored. The index is a keyed blake3 of the normalized address under a
//! server secret that lives only in the key vault, so a copy of the read database alone
//! cannot confirm a guessed address.
//! Must not store or log the address itself.

use vigil_domain::values::EmailAddress;
use zeroize::Zeroizing;

/// The vault-derived context of the blind-index key (see `EventStore::system_secret`).
pub const INDEX_KEY_CONTEXT: &str = "vigil 2026 identity blind index v1";

/// The key of the blind index; wiped on drop, never printed.
#[derive(Clone)]
pub struct IndexKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKey(<redacted>)")
    }
}

impl IndexKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        IndexKey(Zeroizing::new(bytes))
    }

    /// Blind index of an email address. Addresses are compared case-insensitively (as every
    /// mainstream provider does), so the index is over the trimmed, lowercased address.
    pub fn email(&self, email: &EmailAddress) -> String {
        self.index("email", &email.expose_secret().to_lowercase())
    }

    /// Blind index of a handle. Handles are public, but indexing them the same way keeps one
    /// claims table with one shape.
    pub fn handle(&self, handle: &str) -> String {
        self.index("handle", &handle.to_lowercase())
    }

    /// Blind index of a client address (the key of cluster-wide sign-in limits), so the
    /// read database never holds an IP address in clear.
    pub fn client(&self, address: &str) -> String {
        self.index("client", address)
    }

    /// Blind index of a person's id (the key of their own sign-in limit when a password is
    /// asked again inside a session), so limit rows do not name people either.
    pub fn person(&self, id: &uuid::Uuid) -> String {
        self.index("person", &id.to_string())
    }

    fn index(&self, kind: &str, value: &str) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(kind.as_bytes());
        hasher.update(&[0]);
        hasher.update(value.as_bytes());
        hasher.finalize().to_hex().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_address_in_another_case_has_the_same_index() {
        let key = IndexKey::from_bytes([7; 32]);
        let a = EmailAddress::parse("Someone@Example.org").unwrap();
        let b = EmailAddress::parse("  someone@example.ORG ").unwrap();
        assert_eq!(key.email(&a), key.email(&b));
    }

    #[test]
    fn another_key_gives_an_unrelated_index() {
        let email = EmailAddress::parse("someone@example.org").unwrap();
        assert_ne!(
            IndexKey::from_bytes([1; 32]).email(&email),
            IndexKey::from_bytes([2; 32]).email(&email)
        );
    }

    #[test]
    fn an_index_never_contains_the_address() {
        let email = EmailAddress::parse("someone@example.org").unwrap();
        let index = IndexKey::from_bytes([1; 32]).email(&email);
        assert!(!index.contains("someone"));
        assert_eq!(index.len(), 64);
    }
}
