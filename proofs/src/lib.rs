//! vigil's proofs an auditor can check without trusting us: the chain's link encoding (`VGL1`),
//! the audit bundle checker, the Merkle tree over the event log's
//! hashes (RFC 9162 shape: leaf and node hashing, roots, inclusion and consistency proofs) and
//! the signed checkpoints that commit to its roots (C2SP `tlog-checkpoint` in a `signed-note`).
//!
//! Pure: no I/O, no clock, no randomness, no async. Storage of tree nodes belongs to the event
//! store, keys and serving to the API; this crate only computes and checks, so the offline
//! verifier (`vigil audit verify`) can run with nothing but a bundle and a public key.

pub mod bundle;
pub mod chain;
pub mod merkle;
pub mod note;
