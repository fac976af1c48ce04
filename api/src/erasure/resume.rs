//! Finishing erasures that a crash interrupted. A recorded request (`ErasureRequested`) whose
//! person still has an account row has not finished: every server looks for such people once
//! its read models have caught up at start, and again every [`EVERY`], and runs the whole flow
//! for each (every step is safe to repeat, so two servers doing it at once erase once).
//!
//! Must not: erase anyone whose request is not recorded.

use std::time::Duration;

use vigil_projections::read;

use super::Cause;
use crate::service::{ApiResult, Service};

/// How often a running server looks again.
pub const EVERY: Duration = Duration::from_secs(60);

/// Finishes every pending erasure; how many it finished.
///
/// # Errors
/// Store and database errors (the next look tries again).
pub async fn resume_pending(service: &Service) -> ApiResult<usize> {
    super::caught_up(service).await?;
    let pending = read::pending_erasures(service.db()).await?;
    for person in &pending {
        let receipt = service.erase(*person, Cause::Resumed).await?;
        tracing::info!(
            subject = %person,
            ledger_position = receipt.ledger_position,
            "finished an interrupted erasure"
        );
    }
    Ok(pending.len())
}

/// Looks at start and then every [`EVERY`] until the service stops.
pub fn spawn(service: Service) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = resume_pending(&service).await {
                tracing::warn!(error = %e, "cannot finish pending erasures now; trying again later");
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}
