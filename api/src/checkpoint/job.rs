//! The checkpoint job every `vigil serve` node runs: it signs the Merkle root of the whole
//! committed log and records the signed note, at most every `every` and only when events came
//! in since the newest recorded checkpoint, or sooner once `events` new events have. The
//! cadence is judged against the newest recorded checkpoint (its size and signing time), not
//! this node's memory, so nodes sharing a log take turns rather than each signing its own.
//! Two nodes signing the same size with the same key produce the same note (Ed25519 signs
//! deterministically), and recording it twice is a no-op.
//! Must not sign a root it did not read for exactly the size it signs, and must not log the key.

use std::time::Duration;

use vigil_eventstore::{EventStore, Recorded, StoreError};

use super::CheckpointSigner;

/// When the job signs.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    /// At most this often (when at least one event came in).
    pub every: Duration,
    /// Sooner once this many events came in since the newest checkpoint.
    pub events: u64,
}

/// How often the job looks at the head: often enough for the event threshold, never more
/// than the interval.
fn poll(cadence: Cadence) -> Duration {
    cadence.every.min(Duration::from_secs(1))
}

/// What one look did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing to sign yet.
    Idle,
    /// Signed and recorded (or found recorded by another node) a checkpoint of this size.
    Signed(u64, Recorded),
}

/// Signs a checkpoint of the current tree now if the cadence says so.
///
/// # Errors
/// Store errors; `CheckpointConflict` if the size was recorded with another root.
pub async fn tick(store: &EventStore, signer: &CheckpointSigner, cadence: Cadence) -> Result<Tick, StoreError> {
    let size = store.tree_size().await?;
    if size == 0 {
        return Ok(Tick::Idle);
    }
    let latest = store.latest_checkpoint().await?;
    let due = match &latest {
        None => true,
        Some(cp) if cp.size >= size => false,
        Some(cp) => {
            let age_micros = now_micros().saturating_sub(cp.signed_at_micros);
            let every_micros = i64::try_from(cadence.every.as_micros()).unwrap_or(i64::MAX);
            size - cp.size >= cadence.events || age_micros >= every_micros
        }
    };
    if !due {
        return Ok(Tick::Idle);
    }
    // Nodes below a committed head never change: this is the root of exactly `size` events.
    let root = store.tree_root(size).await?;
    let note = signer
        .sign(size, root)
        .map_err(|e| StoreError::Corrupt(format!("cannot sign checkpoint {size}: {e}")))?;
    let recorded = store.record_checkpoint(size, root, &note).await?;
    Ok(Tick::Signed(size, recorded))
}

fn now_micros() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// Runs [`tick`] every poll interval until aborted.
pub fn spawn(store: EventStore, signer: CheckpointSigner, cadence: Cadence) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match tick(&store, &signer, cadence).await {
                Ok(Tick::Idle) | Ok(Tick::Signed(_, Recorded::AlreadyRecorded)) => {}
                Ok(Tick::Signed(size, Recorded::Inserted)) => {
                    tracing::info!(size, origin = signer.origin(), "signed a checkpoint");
                }
                Ok(Tick::Signed(size, Recorded::OtherNote)) => tracing::warn!(
                    size,
                    "this size was recorded under another signature: do all nodes share one checkpoint key?"
                ),
                Err(e @ StoreError::CheckpointConflict { .. }) => {
                    tracing::error!(error = %e, "the log forked: two roots for one tree size");
                }
                Err(e) => tracing::warn!(error = %e, "cannot sign a checkpoint now; trying again later"),
            }
            tokio::time::sleep(poll(cadence)).await;
        }
    })
}
