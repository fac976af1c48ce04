//! The blake3 hash chain's link encoding `VGL1` (ADR 0001, `eventstore/src/chain.rs`): the one
//! implementation of how an event's clear header, nonce and ciphertext are hashed onto its
//! predecessor's hash, shared by the store's appender and verifier and by the offline bundle
//! verifier. Pure: it hashes bytes it is handed and must not read, decrypt or decide anything.
//!
//! ```text
//! hash_n = blake3( hash_{n-1}            32 bytes (GENESIS for position 1)
//!                ‖ "VGL1"                 tag of this encoding version
//!                ‖ position u64 ‖ event_id 16 ‖ stream_id str ‖ stream_version u64
//!                ‖ subject 16 ‖ event_type str ‖ schema_version u32 ‖ recorded_at i64 (µs)
//!                ‖ actor str ‖ correlation opt uuid ‖ causation opt uuid ‖ command opt uuid
//!                ‖ key_id 16
//!                ‖ nonce 12 ‖ ciphertext_len u32 ‖ ciphertext )
//! ```
//!
//! All integers big-endian; `str` = u16 length then UTF-8; `opt uuid` = one presence byte, then
//! 16 bytes when present.

/// Version tag of the canonical encoding, hashed into every link.
pub const CHAIN_ENCODING: &[u8; 4] = b"VGL1";

/// The fixed value that stands in for "hash of event 0": blake3 of a constant string.
pub fn genesis() -> [u8; 32] {
    *blake3::hash(b"vigil event chain genesis v1").as_bytes()
}

/// The header fields the chain covers, borrowed (UUIDs as their 16 bytes), so callers hash a
/// row straight from wherever it lies without building an owned event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkHeader<'a> {
    /// Global position (1-based).
    pub position: u64,
    /// The event's id.
    pub event_id: [u8; 16],
    /// Its stream.
    pub stream_id: &'a str,
    /// Its version within the stream.
    pub stream_version: u64,
    /// The data subject whose key seals it.
    pub subject: [u8; 16],
    /// Its type name.
    pub event_type: &'a str,
    /// Its payload's schema version.
    pub schema_version: u32,
    /// When it was recorded, µs since the Unix epoch.
    pub recorded_at_micros: i64,
    /// Who wrote it.
    pub actor: &'a str,
    /// Correlation id, if any.
    pub correlation_id: Option<[u8; 16]>,
    /// Causation id, if any.
    pub causation_id: Option<[u8; 16]>,
    /// Command id, if any.
    pub command_id: Option<[u8; 16]>,
    /// The data key's id.
    pub key_id: [u8; 16],
}

impl LinkHeader<'_> {
    /// Encoding `VGL1` (see the module docs), fed to the hasher piece by piece: streaming gives
    /// the same digest as one concatenated buffer, without allocating one per event.
    pub fn link_hash(&self, prev: &[u8; 32], nonce: &[u8], ciphertext: &[u8]) -> [u8; 32] {
        let str_len = |s: &str| u16::try_from(s.len()).unwrap_or(u16::MAX).to_be_bytes();
        let mut h = blake3::Hasher::new();
        h.update(prev);
        h.update(CHAIN_ENCODING);
        h.update(&self.position.to_be_bytes());
        h.update(&self.event_id);
        h.update(&str_len(self.stream_id));
        h.update(self.stream_id.as_bytes());
        h.update(&self.stream_version.to_be_bytes());
        h.update(&self.subject);
        h.update(&str_len(self.event_type));
        h.update(self.event_type.as_bytes());
        h.update(&self.schema_version.to_be_bytes());
        h.update(&self.recorded_at_micros.to_be_bytes());
        h.update(&str_len(self.actor));
        h.update(self.actor.as_bytes());
        for id in [self.correlation_id, self.causation_id, self.command_id] {
            match id {
                Some(id) => {
                    h.update(&[1]);
                    h.update(&id);
                }
                None => {
                    h.update(&[0]);
                }
            }
        }
        h.update(&self.key_id);
        h.update(nonce);
        let len = u32::try_from(ciphertext.len()).unwrap_or(u32::MAX);
        h.update(&len.to_be_bytes());
        h.update(ciphertext);
        *h.finalize().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> [u8; 16] {
        n.to_be_bytes()
    }

    fn header() -> LinkHeader<'static> {
        LinkHeader {
            position: 1,
            event_id: id(1),
            stream_id: "s-1",
            stream_version: 1,
            subject: id(7),
            event_type: "T",
            schema_version: 1,
            recorded_at_micros: 1_700_000_000_000_000,
            actor: "system:test",
            correlation_id: None,
            causation_id: None,
            command_id: Some(id(9)),
            key_id: id(3),
        }
    }

    #[test]
    fn the_encoding_is_pinned_by_the_stores_known_vector() {
        // The same vector as `eventstore/src/chain.rs`: one encoding, two callers.
        let h = header().link_hash(&genesis(), &[1; 12], b"ciphertext");
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "bdc443e83c00793abcb7529f39a7f80f5f83ca332c5271199bcb2c331c71b7e0");
    }

    #[test]
    fn every_input_changes_the_hash() {
        let base = header().link_hash(&genesis(), &[1; 12], b"ct");
        let mut h = header();
        h.actor = "system:other";
        assert_ne!(h.link_hash(&genesis(), &[1; 12], b"ct"), base);
        let mut h = header();
        h.command_id = None;
        assert_ne!(h.link_hash(&genesis(), &[1; 12], b"ct"), base);
        assert_ne!(header().link_hash(&genesis(), &[2; 12], b"ct"), base);
        assert_ne!(header().link_hash(&genesis(), &[1; 12], b"cu"), base);
        assert_ne!(header().link_hash(&[0; 32], &[1; 12], b"ct"), base);
    }
}
