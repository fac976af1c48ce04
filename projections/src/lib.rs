//! # vigil-projections
//!
//! The read side: read models (tables on SQLite or Postgres) kept by a runner that tails the
//! event log, and the queries the API answers from them.
//!
//! - [`runner`] tails the global log from each projection's checkpoint, decrypting with the
//!   store's keys; the checkpoint moves in the same transaction as the read-model writes, so
//!   an event is never applied twice. Erased people's events are skipped and, when the
//!   erasure ledger records their shredding, every row of theirs is deleted.
//! - [`read`] holds the queries, always scoped by the owner's id.
//! - [`cache`] keeps each person's dashboard sources in memory, kept fresh by the runner.
//! - [`streams`] names the streams the API writes and the runner routes by.
//! - [`identity`] computes blind indexes so an email is never stored; [`claims`] settles who
//!   holds which one.
//!
//! Must not know HTTP or GraphQL, read the clock inside an apply, or write to the event log.

#![warn(missing_docs)]

mod apply;
pub mod cache;
pub mod claims;
pub mod db;
pub mod error;
pub mod identity;
pub mod projection;
pub mod read;
pub mod row_security;
pub mod runner;
pub mod streams;

pub use cache::{DashboardSource, ReadCache};
pub use db::{Backend, ReadDb};
pub use error::{ProjectionError, Result};
pub use identity::{INDEX_KEY_CONTEXT, IndexKey};
pub use projection::Projection;
pub use row_security::row_security_problems;
pub use runner::{CheckpointStatus, ProjectionRunner, RebuildReport};
