//! Following the read-only switch. Each process loads the stream at start and then reads
//! its tail (one indexed query for the events after the version it knows) every
//! [`POLL`], and at once when woken: by its own flips, and on Postgres by the
//! `vigil_maintenance` notice the flipping process sends after its append. So every node
//! sees a flip within milliseconds on Postgres, and within [`POLL`] on SQLite (another process
//! sharing the data directory, such as the CLI) or should a notice be lost.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;
use vigil_domain::aggregate::Aggregate;
use vigil_domain::maintenance::{
    Maintenance, MaintenanceCommand, MaintenanceEvent, MaintenanceState, ReadOnly, STREAM,
};
use vigil_eventstore::{EventStore, Metadata, SYSTEM_SUBJECT};

use crate::service::{ApiError, ApiResult, Service};

/// How often the stream's tail is read, notices or not.
pub const POLL: Duration = Duration::from_millis(500);
/// Postgres channel a flip is announced on (no payload: followers read the stream).
pub const CHANNEL: &str = "vigil_maintenance";

/// The switch as this process last read it.
pub struct ReadOnlySwitch {
    known: RwLock<Known>,
    wake: Notify,
    follower: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Default)]
struct Known {
    version: u64,
    state: MaintenanceState,
}

impl Drop for ReadOnlySwitch {
    fn drop(&mut self) {
        if let Some(task) = self
            .follower
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl ReadOnlySwitch {
    /// Reads the switch from the store and starts following it.
    ///
    /// # Errors
    /// When the stream cannot be read or decoded.
    pub async fn follow(store: &EventStore) -> anyhow::Result<Arc<ReadOnlySwitch>> {
        let switch = Arc::new(ReadOnlySwitch {
            known: RwLock::new(Known::default()),
            wake: Notify::new(),
            follower: std::sync::Mutex::new(None),
        });
        switch.catch_up(store).await?;
        let task = tokio::spawn(follow(Arc::downgrade(&switch), store.clone()));
        *switch
            .follower
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
        Ok(switch)
    }

    /// Read-only since when, by whom and why; `None` while mutations are accepted.
    pub fn read_only(&self) -> Option<ReadOnly> {
        self.known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .state
            .read_only
            .clone()
    }

    /// Reads the stream's tail now (a flip was announced).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Applies the events after the known version; logs each flip.
    pub(crate) async fn catch_up(&self, store: &EventStore) -> anyhow::Result<()> {
        loop {
            let from = self
                .known
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .version
                + 1;
            let events = store.read_stream(STREAM, from, 100).await?;
            if events.is_empty() {
                return Ok(());
            }
            let mut known = self.known.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for event in events {
                if event.envelope.stream_version != known.version + 1 {
                    // Another reader raced us past it: the state already includes it.
                    continue;
                }
                let Some(decoded) = event.decode::<MaintenanceEvent>()? else {
                    continue;
                };
                match &decoded {
                    MaintenanceEvent::ReadOnlyEnabled { by, at, .. } => {
                        tracing::warn!(by = %by, since = %at, "read-only mode ON: mutations are refused");
                    }
                    MaintenanceEvent::ReadOnlyDisabled { by, .. } => {
                        tracing::warn!(by = %by, "read-only mode OFF: mutations are accepted");
                    }
                }
                known.state = Maintenance::evolve(std::mem::take(&mut known.state), &decoded);
                known.version = event.envelope.stream_version;
            }
        }
    }
}

/// Follows the stream until the switch is dropped.
async fn follow(switch: Weak<ReadOnlySwitch>, store: EventStore) {
    loop {
        let Some(current) = switch.upgrade() else { return };
        let woken = current.wake.notified();
        tokio::pin!(woken);
        // Registered before the read, so a wake during it is not lost.
        woken.as_mut().enable();
        if let Err(e) = current.catch_up(&store).await {
            tracing::error!(error = %e, "cannot read the maintenance stream; retrying");
        }
        let _ = tokio::time::timeout(POLL, woken).await;
    }
}

/// Switches read-only mode on or off as `by` (an actor string such as `system:cli`), then
/// tells every process: this one at once, the others through the notice (Postgres) or
/// their next poll.
///
/// # Errors
/// `CONFLICT` when the switch is already in that position; `BAD_USER_INPUT` for a bad reason.
pub async fn flip(service: &Service, on: bool, by: String, reason: &str) -> ApiResult<u64> {
    let at = OffsetDateTime::now_utc();
    let reason = reason.to_owned();
    let position = service
        .execute::<Maintenance>(STREAM, SYSTEM_SUBJECT, Metadata::actor(by.clone()), move |_| {
            Ok(if on {
                MaintenanceCommand::EnableReadOnly {
                    by: by.clone(),
                    reason: reason.clone(),
                    at,
                }
            } else {
                MaintenanceCommand::DisableReadOnly {
                    by: by.clone(),
                    reason: reason.clone(),
                    at,
                }
            })
        })
        .await?;
    // This process knows before answering; the others are told.
    service
        .maintenance()
        .catch_up(service.store())
        .await
        .map_err(ApiError::internal)?;
    service.announce_maintenance().await.map_err(ApiError::internal)?;
    Ok(position)
}
