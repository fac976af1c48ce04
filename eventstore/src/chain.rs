//! The blake3 hash chain over ciphertext: the canonical header encoding (versioned), the
//! genesis value, and the pure checks `verify_chain` applies to each stored row. Because the
//! chain covers ciphertext and never plaintext, it still verifies after a subject is shredded.
//! Must not read the database or decrypt anything. The encoding itself is implemented once, in
//! `vigil_proofs::chain`; this module maps the store's types onto it.
//!
//! Encoding v1 (all integers big-endian; `str` = u16 length then UTF-8; `opt uuid` = one
//! presence byte, then 16 bytes when present):
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

use std::fmt;

use uuid::Uuid;

use crate::model::Envelope;

/// Version tag of the canonical encoding, hashed into every link.
pub const CHAIN_ENCODING: &[u8; 4] = vigil_proofs::chain::CHAIN_ENCODING;

/// The fixed value that stands in for "hash of event 0": blake3 of a constant string.
pub fn genesis() -> [u8; 32] {
    vigil_proofs::chain::genesis()
}

/// Computes the chain hash of one event from its predecessor's hash.
pub fn link_hash(prev: &[u8; 32], env: &Envelope, nonce: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    LinkHeader {
        position: env.position,
        event_id: env.event_id,
        stream_id: &env.stream_id,
        stream_version: env.stream_version,
        subject: env.subject,
        event_type: &env.event_type,
        schema_version: env.schema_version,
        recorded_at_micros: env.recorded_at_micros,
        actor: &env.actor,
        correlation_id: env.correlation_id,
        causation_id: env.causation_id,
        command_id: env.command_id,
        key_id: env.key_id,
    }
    .link_hash(prev, nonce, ciphertext)
}

/// The envelope fields the chain covers, borrowed, so a scan can hash a row straight from
/// the database's buffer without building an `Envelope`.
pub(crate) struct LinkHeader<'a> {
    pub position: u64,
    pub event_id: Uuid,
    pub stream_id: &'a str,
    pub stream_version: u64,
    pub subject: Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub recorded_at_micros: i64,
    pub actor: &'a str,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub command_id: Option<Uuid>,
    pub key_id: Uuid,
}

impl LinkHeader<'_> {
    /// Encoding v1, computed by the one implementation in `vigil_proofs::chain` (which the
    /// offline bundle verifier runs too).
    pub(crate) fn link_hash(&self, prev: &[u8; 32], nonce: &[u8], ciphertext: &[u8]) -> [u8; 32] {
        vigil_proofs::chain::LinkHeader {
            position: self.position,
            event_id: *self.event_id.as_bytes(),
            stream_id: self.stream_id,
            stream_version: self.stream_version,
            subject: *self.subject.as_bytes(),
            event_type: self.event_type,
            schema_version: self.schema_version,
            recorded_at_micros: self.recorded_at_micros,
            actor: self.actor,
            correlation_id: self.correlation_id.map(|u| *u.as_bytes()),
            causation_id: self.causation_id.map(|u| *u.as_bytes()),
            command_id: self.command_id.map(|u| *u.as_bytes()),
            key_id: *self.key_id.as_bytes(),
        }
        .link_hash(prev, nonce, ciphertext)
    }
}

/// Why the chain is broken at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// The stored hash does not match the recomputed one: the event was altered.
    HashMismatch,
    /// The stored previous hash differs from the preceding event's hash.
    BrokenLink,
    /// A position is missing (or out of order) before this one.
    Gap {
        /// The position that should have come next.
        expected: u64,
    },
    /// The chain-head record names a later position than the last stored event: the tail was
    /// removed.
    Truncated {
        /// The head's last position.
        head_position: u64,
    },
    /// The chain-head hash does not match the last event's hash.
    HeadMismatch,
}

impl fmt::Display for ChainFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainFault::HashMismatch => f.write_str("hash mismatch: the event's content was altered"),
            ChainFault::BrokenLink => f.write_str("broken link: previous hash does not match the preceding event"),
            ChainFault::Gap { expected } => write!(f, "gap: expected position {expected}"),
            ChainFault::Truncated { head_position } => {
                write!(f, "truncated: the chain head records position {head_position}")
            }
            ChainFault::HeadMismatch => f.write_str("head mismatch: chain head hash differs from the last event"),
        }
    }
}

/// The first bad position and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first position that fails.
    pub position: u64,
    /// What failed.
    pub fault: ChainFault,
}

/// A whole-log verification result when intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Number of events verified.
    pub events: u64,
    /// Hash of the last event (the genesis value for an empty log).
    pub head_hash: [u8; 32],
}

/// The order-dependent half of verification: positions contiguous and links intact. The
/// content half (recomputing each hash from its own stored `prev_hash`) is independent per
/// row, which lets the verifier spread it over cores.
#[derive(Debug, Clone)]
pub struct LinkWalker {
    next_position: u64,
    last_hash: [u8; 32],
}

impl Default for LinkWalker {
    fn default() -> Self {
        LinkWalker {
            next_position: 1,
            last_hash: genesis(),
        }
    }
}

impl LinkWalker {
    /// Checks that `position` follows the previous row and that `prev_hash` links to it.
    ///
    /// # Errors
    /// The break found at this row.
    pub fn step(&mut self, position: u64, prev_hash: &[u8; 32], hash: &[u8; 32]) -> Result<(), ChainBreak> {
        if position != self.next_position {
            return Err(ChainBreak {
                position,
                fault: ChainFault::Gap {
                    expected: self.next_position,
                },
            });
        }
        if prev_hash != &self.last_hash {
            return Err(ChainBreak {
                position,
                fault: ChainFault::BrokenLink,
            });
        }
        self.next_position += 1;
        self.last_hash = *hash;
        Ok(())
    }

    /// Number of rows accepted so far.
    pub fn count(&self) -> u64 {
        self.next_position - 1
    }

    /// Hash of the last accepted row.
    pub fn last_hash(&self) -> [u8; 32] {
        self.last_hash
    }

    /// Compares the walked chain with the stored chain head.
    ///
    /// # Errors
    /// `Truncated` or `HeadMismatch`.
    pub fn finish(&self, head_position: u64, head_hash: &[u8; 32]) -> Result<ChainReport, ChainBreak> {
        if head_position != self.count() {
            return Err(ChainBreak {
                position: self.next_position,
                fault: ChainFault::Truncated { head_position },
            });
        }
        if head_hash != &self.last_hash {
            return Err(ChainBreak {
                position: self.count(),
                fault: ChainFault::HeadMismatch,
            });
        }
        Ok(ChainReport {
            events: self.count(),
            head_hash: self.last_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn envelope(position: u64) -> Envelope {
        Envelope {
            position,
            event_id: Uuid::from_u128(position as u128),
            stream_id: "s-1".into(),
            stream_version: position,
            subject: Uuid::from_u128(7),
            event_type: "T".into(),
            schema_version: 1,
            recorded_at_micros: 1_700_000_000_000_000,
            actor: "system:test".into(),
            correlation_id: None,
            causation_id: None,
            command_id: Some(Uuid::from_u128(9)),
            key_id: Uuid::from_u128(3),
            prev_hash: [0; 32],
            hash: [0; 32],
        }
    }

    #[test]
    fn the_encoding_is_pinned_by_a_known_vector() {
        // Changing the canonical encoding silently would orphan every stored chain; a new
        // encoding needs a new tag, never an edit to this one.
        let h = link_hash(&genesis(), &envelope(1), &[1; 12], b"ciphertext");
        assert_eq!(
            hex::encode(h),
            "bdc443e83c00793abcb7529f39a7f80f5f83ca332c5271199bcb2c331c71b7e0"
        );
    }

    #[test]
    fn every_header_field_changes_the_hash() {
        let base = link_hash(&genesis(), &envelope(1), &[1; 12], b"ct");
        let mut e = envelope(1);
        e.actor = "system:other".into();
        assert_ne!(link_hash(&genesis(), &e, &[1; 12], b"ct"), base);
        let mut e = envelope(1);
        e.command_id = None;
        assert_ne!(link_hash(&genesis(), &e, &[1; 12], b"ct"), base);
        assert_ne!(link_hash(&genesis(), &envelope(1), &[2; 12], b"ct"), base);
        assert_ne!(link_hash(&genesis(), &envelope(1), &[1; 12], b"cu"), base);
        assert_ne!(link_hash(&[0; 32], &envelope(1), &[1; 12], b"ct"), base);
    }

    #[test]
    fn the_walker_names_gaps_and_broken_links() {
        let mut w = LinkWalker::default();
        let h1 = [1; 32];
        w.step(1, &genesis(), &h1).unwrap();
        assert_eq!(
            w.clone().step(3, &h1, &[2; 32]).unwrap_err().fault,
            ChainFault::Gap { expected: 2 }
        );
        assert_eq!(
            w.clone().step(2, &[9; 32], &[2; 32]).unwrap_err().fault,
            ChainFault::BrokenLink
        );
        w.step(2, &h1, &[2; 32]).unwrap();
        assert!(w.finish(2, &[2; 32]).is_ok());
        assert_eq!(
            w.finish(3, &[2; 32]).unwrap_err().fault,
            ChainFault::Truncated { head_position: 3 }
        );
    }
}
