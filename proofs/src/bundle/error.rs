//! Why a bundle does not prove the log: the first failed check, typed, and displayed with the
//! name `docs/audit-bundle.md` gives it (`header:`, `checkpoint N:`, `prefix:`,
//! `consistency A->B:`, `position N:`, `pinned N:`). Must not check anything itself.

use std::fmt;

use super::FORMAT;
use crate::merkle::{Hash, VerifyError};
use crate::note::NoteError;

/// Check 1 failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderFault {
    /// `format` is not one this verifier knows.
    UnknownFormat(String),
    /// `origin` is not the verifier key's name.
    OriginNotKeyName {
        /// The bundle's origin.
        origin: String,
        /// The key's name.
        key: String,
    },
    /// `A > B`, or `B = 0`.
    BadRange,
}

/// Check 2 (or the root comparison of check 5) failed for a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointFault {
    /// The note does not parse, verify under the key, or carry the bundle's origin.
    Note(NoteError),
    /// A trusted witness's cosignature line on it does not verify.
    Witness(NoteError),
    /// Its size is not above the previous one's.
    NotAscending {
        /// The previous checkpoint's size.
        previous: u64,
    },
    /// Its size lies outside `[A, B]`.
    OutsideRange,
    /// The last checkpoint is not of size `B` (or there is none).
    LastIsNotB,
    /// `A > 0` and the first checkpoint is not of size `A`.
    FirstIsNotA,
    /// The events give another root at its size.
    RootMismatch {
        /// The root folded from the events.
        computed: Hash,
    },
}

/// Check 3 failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixFault {
    /// `A = 0` with a non-empty edge or proof, or a `last_hash` other than the genesis.
    NotGenesis,
    /// The edge has the wrong number of hashes for `A`.
    EdgeLength {
        /// Hashes given.
        got: usize,
    },
    /// The root folded from the edge is not checkpoint `A`'s.
    EdgeRoot,
    /// `last_proof` does not prove `last_hash` at index `A - 1`.
    LastProof(VerifyError),
}

/// Check 5 failed at an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFault {
    /// Another position came where this one was due (missing, repeated, out of order).
    Gap {
        /// The position found instead.
        found: u64,
    },
    /// The events go on beyond `B`.
    BeyondB,
    /// The events end before this position.
    Missing,
    /// `prev_hash` is not the previous event's `hash`.
    BrokenLink,
    /// `hash` is not the link recomputed from the event.
    HashMismatch,
}

/// Check 6 (or the pinned note's signature, in check 2) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinnedFault {
    /// The pinned note does not verify under the key (or is of another origin).
    Note(NoteError),
    /// The pin is beyond `B`: the log no longer reaches a size it once signed (a dropped tail).
    BeyondB {
        /// `B`.
        to: u64,
    },
    /// The pin is before `A`: the bundle cannot speak for it.
    BeforeA {
        /// `A`.
        from: u64,
    },
    /// The events give another root at the pinned size: rewritten or forked since the pin.
    RootMismatch {
        /// The root folded from the bundle.
        computed: Hash,
    },
}

/// The first failure, named as `docs/audit-bundle.md` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// `header: …`
    Header(HeaderFault),
    /// `checkpoint N: …` (N the size; `#i` when the note's size cannot be read).
    Checkpoint {
        /// Its size, or `None` for an unreadable note.
        size: Option<u64>,
        /// Its index in `checkpoints`.
        index: usize,
        /// What failed.
        fault: CheckpointFault,
    },
    /// `prefix: …`
    Prefix(PrefixFault),
    /// `consistency A->B: …`
    Consistency {
        /// A.
        from: u64,
        /// B.
        to: u64,
        /// Why the proof fails.
        fault: VerifyError,
    },
    /// `position N: …`
    Position {
        /// The position.
        position: u64,
        /// What failed.
        fault: EventFault,
    },
    /// `pinned N: …`
    Pinned {
        /// The pinned size (`None` when the note is unreadable).
        size: Option<u64>,
        /// What failed.
        fault: PinnedFault,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = hex::encode;
        match self {
            CheckError::Header(h) => match h {
                HeaderFault::UnknownFormat(v) => write!(f, "header: unknown format {v:?} (expected {FORMAT:?})"),
                HeaderFault::OriginNotKeyName { origin, key } => {
                    write!(f, "header: origin {origin:?} is not the key's name {key:?}")
                }
                HeaderFault::BadRange => {
                    f.write_str("header: the range must have 0 <= from_size <= to_size and to_size > 0")
                }
            },
            CheckError::Checkpoint { size, index, fault } => {
                match size {
                    Some(s) => write!(f, "checkpoint {s}: ")?,
                    None => write!(f, "checkpoint #{index}: ")?,
                }
                match fault {
                    CheckpointFault::Note(e) => write!(f, "{e}"),
                    CheckpointFault::Witness(e) => write!(f, "witness cosignature: {e}"),
                    CheckpointFault::NotAscending { previous } => write!(f, "size does not ascend after {previous}"),
                    CheckpointFault::OutsideRange => f.write_str("size outside [from_size, to_size]"),
                    CheckpointFault::LastIsNotB => f.write_str("the last checkpoint must have size to_size"),
                    CheckpointFault::FirstIsNotA => f.write_str("the first checkpoint must have size from_size"),
                    CheckpointFault::RootMismatch { computed } => {
                        write!(f, "root mismatch: the events give {}", hex(computed))
                    }
                }
            }
            CheckError::Prefix(p) => match p {
                PrefixFault::NotGenesis => {
                    f.write_str("prefix: from_size 0 needs an empty edge and proof and the genesis as last_hash")
                }
                PrefixFault::EdgeLength { got } => {
                    write!(f, "prefix: the edge has {got} hashes, not one per set bit of from_size")
                }
                PrefixFault::EdgeRoot => f.write_str("prefix: the edge does not fold to checkpoint from_size's root"),
                PrefixFault::LastProof(e) => write!(f, "prefix: last_proof does not prove last_hash: {e}"),
            },
            CheckError::Consistency { from, to, fault } => write!(f, "consistency {from}->{to}: {fault}"),
            CheckError::Position { position, fault } => {
                write!(f, "position {position}: ")?;
                match fault {
                    EventFault::Gap { found } => write!(f, "missing (found position {found} in its place)"),
                    EventFault::BeyondB => f.write_str("beyond to_size"),
                    EventFault::Missing => f.write_str("missing (the events end before it)"),
                    EventFault::BrokenLink => f.write_str("broken link: prev_hash is not the previous event's hash"),
                    EventFault::HashMismatch => f.write_str("hash mismatch: the event's content was altered"),
                }
            }
            CheckError::Pinned { size, fault } => {
                match size {
                    Some(s) => write!(f, "pinned {s}: ")?,
                    None => f.write_str("pinned: ")?,
                }
                match fault {
                    PinnedFault::Note(e) => write!(f, "{e}"),
                    PinnedFault::BeyondB { to } => write!(
                        f,
                        "beyond the bundle's to_size {to}: the log no longer reaches a size it signed (dropped tail)"
                    ),
                    PinnedFault::BeforeA { from } => write!(f, "before the bundle's from_size {from}"),
                    PinnedFault::RootMismatch { computed } => write!(
                        f,
                        "root mismatch: the bundle gives {} (the log was rewritten or forked since the pin)",
                        hex(computed)
                    ),
                }
            }
        }
    }
}

impl std::error::Error for CheckError {}
