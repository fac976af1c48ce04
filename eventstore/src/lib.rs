//! # vigil-eventstore
//!
//! The append-only event log every other part of vigil stands on.
//!
//! - **Appends** go through one appender task per process that commits whatever is queued in
//!   one transaction (group commit) while holding the chain head, so global positions are
//!   gapless and in commit order on SQLite and Postgres alike.
//! - **Payloads** are sealed with AES-256-GCM under the data key of their subject; the
//!   associated data binds each ciphertext to its event. Data keys live only wrapped by the
//!   master key, in a vault apart from the log (a separate file or schema and role).
//! - **Shredding** a subject fences it in the log and destroys its keys; its events then read
//!   as [`Payload::Erased`].
//! - **Integrity**: each event's hash covers its predecessor's hash, its clear header and its
//!   ciphertext ([`chain`]), so the chain still verifies after shredding.
//!
//! This crate must not know HTTP, GraphQL or business rules, and must not install telemetry.

#![warn(missing_docs)]

mod appender;
mod audit_reads;
pub mod chain;
mod checked;
mod checkpoints;
mod crypto;
mod db;
mod error;
mod known;
mod log;
mod merkle;
mod model;
mod opening;
mod plan;
mod readonly;
mod recent;
mod scan;
pub mod snapshot;
mod store;
mod subscribe;
mod time;
mod upcast;
mod vault;
mod verify;
mod wal;

pub use appender::GroupCommits;
pub use audit_reads::RawEvent;
pub use checkpoints::{Recorded, RecordedCheckpoint};
pub use crypto::{MasterKey, random_key_bytes};
pub use db::{
    Location, PG_MIGRATOR, SQLITE_EVENTS_MIGRATOR, SQLITE_MIGRATION_LOCK, SQLITE_VAULT_MIGRATOR, create_private_dir,
    migrate, migration_lock, redact_url, sqlite_pool, sqlite_vault_has_master_key,
};
pub use error::{Result, StoreError};
pub use merkle::{TreeBreak, TreeFault, TreeReport, leaf_of};
pub use model::{
    AppendOutcome, AppendRequest, Envelope, ExpectedVersion, MAX_EVENTS_PER_APPEND, MAX_PAYLOAD_BYTES, Metadata,
    NewEvent, Payload, RecordedEvent, SYSTEM_SUBJECT,
};
pub use readonly::ReadOnlyLog;
pub use store::{ERASURE_LEDGER, EventStore, SUBJECT_ERASED, ShredReport, StoreConfig};
pub use upcast::{UpcastStep, Upcasters};
pub use vault::MasterRotation;
pub use vigil_proofs::merkle as tree;
pub use wal::{FALLBACK_AUTOCHECKPOINT_PAGES, WalCheckpointer, truncate_wal_file};
