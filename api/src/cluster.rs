//! What one node does that every other node must see before its next request: the signals
//! that carry state changes between `vigil serve` processes (and the CLI) sharing one store.
//! On Postgres they ride on LISTEN/NOTIFY; on SQLite every process sharing the data directory
//! reads a small signal file beside the database.
//!
//! Owns the transport only. Must not decide what a signal means (that stays with the code
//! that keeps the state, e.g. `service::live`) and must never carry anything but ids.

pub mod revocations;

/// What this process follows of the others sharing its store.
pub struct Cluster {
    /// Session revocations.
    pub revocations: revocations::Revocations,
    /// The read-only switch.
    pub maintenance: std::sync::Arc<crate::maintenance::ReadOnlySwitch>,
}
