//! The projections layer's one error type. The API maps these to GraphQL codes: every
//! variant here is a server-side failure (`INTERNAL`, HTTP 500) except `InvalidInput`
//! (`BAD_USER_INPUT`, 400) and `Lagging` (`PROJECTION_LAG`, 503 semantics, retryable).

use thiserror::Error;

/// Result alias.
pub type Result<T, E = ProjectionError> = std::result::Result<T, E>;

/// What can go wrong keeping or reading read models.
#[derive(Debug, Error)]
pub enum ProjectionError {
    /// A read-database failure. `INTERNAL`.
    #[error("read database: {0}")]
    Database(#[from] sqlx::Error),
    /// The read schema could not be migrated. `INTERNAL`.
    #[error("read database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The event store failed. `INTERNAL`.
    #[error("event store: {0}")]
    Store(#[from] vigil_eventstore::StoreError),
    /// An event or a stored row could not be decoded. `INTERNAL`.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// Bad input from a caller (unknown projection name, malformed cursor). `BAD_USER_INPUT`.
    #[error("{0}")]
    InvalidInput(String),
    /// The projections did not reach a position in time. `PROJECTION_LAG`.
    #[error("read models have not yet reached position {position} (at {reached})")]
    Lagging {
        /// Position waited for.
        position: u64,
        /// Lowest position the projections had reached.
        reached: u64,
    },
    /// A batch found the checkpoints moved by someone else since its last one (a reset by
    /// another process); it wrote nothing, and the runner starts again from them. `INTERNAL`.
    #[error("the projection checkpoints were moved by another writer")]
    CheckpointsMoved,
    /// The runner stopped. `INTERNAL`.
    #[error("the projection runner has stopped")]
    Stopped,
}

impl ProjectionError {
    pub(crate) fn decode(what: &'static str, detail: impl std::fmt::Display) -> Self {
        ProjectionError::Decode {
            what,
            detail: detail.to_string(),
        }
    }
}
