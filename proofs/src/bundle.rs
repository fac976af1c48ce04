//! The audit bundle (`docs/audit-bundle.md`, ADR 0011): its serde types, the streaming checker
//! that proves a range of the log from a bundle, the log's public key and optionally a pinned
//! checkpoint, and a `DeserializeSeed` that feeds the checker event by event as the file is
//! parsed, so a bundle of any length is checked in constant memory.
//!
//! Pure like the rest of this crate: no I/O (the caller hands a `serde::Deserializer`), no clock,
//! no randomness. Must not hold the events of a bundle: each is checked and dropped. The order of
//! the checks and the names of their failures are the doc's, which an independent verifier
//! (`ops/audit/verify_bundle.py`) implements too.

mod check;
mod error;
mod stream;
mod types;

#[cfg(test)]
mod tests;

pub use check::{Checker, Report, WitnessSeen};
pub use error::{CheckError, CheckpointFault, EventFault, HeaderFault, PinnedFault, PrefixFault};
pub use stream::{Outcome, check_stream};
pub use types::{BundleEvent, Ciphertext, Header, HexHash, Nonce, Prefix, Uuid16};

/// The `format` member of this version of the bundle.
pub const FORMAT: &str = "vigil-audit-bundle/1";
