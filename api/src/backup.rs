//! Backups (ops/adr/0013-backups.md): encrypted sets of the event log and of the key vault,
//! each in its own age archive for its own recipients, rotated, restorable into an empty store,
//! and drilled: restored into a scratch store and checked, with the erasure ledger re-applied
//! so that nobody erased comes back.
//!
//! A set holds no plaintext health data even before encryption: the log's payloads are
//! ciphertext and the vault's data keys are wrapped by the master key, which production keeps
//! outside every backup. The read models (plaintext) are never backed up; they are rebuilt
//! from the log.
//!
//! Owns: the `backup` commands and the serve job. Must not: copy the read models, put the log
//! and its keys in one archive, or log a key, an identity or anything decrypted.

pub mod archive;
pub mod args;
pub mod create;
pub mod drill;
pub mod job;
pub mod ledger;
pub mod manifest;
pub mod record;
pub mod restore;
pub mod rotate;
