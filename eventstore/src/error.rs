//! The store's one error type. Every variant says how the API layer maps it, so a 5xx never
//! leaks detail to clients; infrastructure errors keep their source for the server log only.

use uuid::Uuid;

use crate::model::ExpectedVersion;

/// Everything an event-store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream was not at the expected version. GraphQL `CONFLICT`, HTTP 409.
    #[error("stream {stream} conflict: expected {expected}, actual version {actual}")]
    Conflict {
        /// The stream that was appended to.
        stream: String,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// The stream's current version (0 when it does not exist).
        actual: u64,
    },
    /// The subject was erased (crypto-shredded); nothing may be written under it again.
    /// GraphQL `FORBIDDEN`, HTTP 410.
    #[error("subject {subject} has been erased; appending to it is refused")]
    SubjectErased {
        /// The erased subject.
        subject: Uuid,
    },
    /// A stream belongs to one subject; this append named another. GraphQL `BAD_USER_INPUT`, 400.
    #[error("stream {stream} belongs to another subject")]
    StreamSubjectMismatch {
        /// The stream that was appended to.
        stream: String,
    },
    /// A command id was reused for a different stream. GraphQL `CONFLICT`, HTTP 409.
    #[error("command id {command_id} was already used for another stream")]
    CommandIdReused {
        /// The reused id.
        command_id: Uuid,
    },
    /// Input failed validation before anything was written. GraphQL `BAD_USER_INPUT`, HTTP 400.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The master key does not open this vault. Start-up error; HTTP 500 if ever reached.
    #[error("the master key does not match this key vault ({0})")]
    WrongMasterKey(String),
    /// The database did not let us connect within a few seconds (refused, unreachable,
    /// wrong credentials); names the URL without its password. Start-up error; `INTERNAL`
    /// (HTTP 500) if ever reached.
    #[error("cannot connect to the database at {url}: {reason}")]
    Unreachable {
        /// The URL, password redacted.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// A data key is missing although its subject was never erased: the vault and the log
    /// disagree. HTTP 500 (opaque); an operator must investigate.
    #[error("data key {key_id} is missing from the vault but its subject was not erased")]
    KeyMissing {
        /// The key the event names.
        key_id: Uuid,
    },
    /// Authenticated decryption failed: the ciphertext or its envelope was altered, or the
    /// key is wrong. HTTP 500 (opaque).
    #[error("event at position {position} failed authenticated decryption")]
    Decrypt {
        /// Global position of the event.
        position: u64,
    },
    /// A stored payload could not be upcast to the current schema. HTTP 500 (opaque).
    #[error("upcasting {event_type} v{from} failed: {reason}")]
    Upcast {
        /// Event type.
        event_type: String,
        /// Stored schema version.
        from: u32,
        /// The upcaster's message.
        reason: String,
    },
    /// Stored data is malformed (wrong lengths, out-of-range numbers). HTTP 500 (opaque).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A Merkle tree size beyond the log's current size. GraphQL `BAD_USER_INPUT`, HTTP 400.
    #[error("tree size {size} is beyond the log's {tree_size} events")]
    TreeSizeBeyondLog {
        /// The size asked for.
        size: u64,
        /// The tree's current size (the head position).
        tree_size: u64,
    },
    /// An inclusion proof for a leaf at or beyond the tree size. GraphQL `BAD_USER_INPUT`,
    /// HTTP 400.
    #[error("leaf index {index} is not below tree size {size}")]
    LeafIndexBeyondSize {
        /// The leaf asked for (0-based: position - 1).
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// A consistency proof between sizes that have none (a first size of 0, or one larger
    /// than the second). GraphQL `BAD_USER_INPUT`, HTTP 400.
    #[error("no consistency proof from tree size {from} to {to}")]
    NoConsistencyProof {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// The stored Merkle tree lacks a node the log has completed: a store not backfilled, or
    /// tampering. HTTP 500 (opaque); `vigil verify` names where.
    #[error("the Merkle tree lacks its node at level {level}, index {index}")]
    TreeNodeMissing {
        /// The subtree's level.
        level: u32,
        /// Its index at that level.
        index: u64,
    },
    /// A checkpoint of a size already recorded with another root: two trees of one size, a
    /// fork that must never happen (tampering, or two logs sharing a database). Recorded
    /// checkpoints stay as they are. HTTP 500 (opaque); the checkpoint job logs it loudly.
    #[error("a checkpoint of tree size {size} is recorded with another root")]
    CheckpointConflict {
        /// The size both claim.
        size: u64,
    },
    /// The appender task is gone (the store is shutting down). HTTP 503.
    #[error("the event store is shutting down")]
    ShuttingDown,
    /// Migrations failed. Start-up error.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed. HTTP 500 (opaque).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded log's bulk reader (`scan`) failed. HTTP 500 (opaque).
    #[error("database error (scan): {0}")]
    Scan(#[from] rusqlite::Error),
}

impl StoreError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
