//! Backups and drills as events of the `system-backups` stream, and what the metrics read from
//! it. Because the record is in the log, every node reports the same backup age and drill
//! verdict, whichever node or host took the backup or ran the drill.
//!
//! Owns: recording, and following the stream for the gauges. Must not: take or check backups.

use std::sync::Mutex;

use time::OffsetDateTime;
use vigil_domain::aggregate::Aggregate;
use vigil_domain::backup::{BackupCommand, BackupEvent, BackupState, Backups, Created, Drilled, STREAM};
use vigil_eventstore::{EventStore, Metadata, SYSTEM_SUBJECT};

use crate::service::{ApiResult, Service};

/// Records a set as created (`by`: `system:cli`, `system:backup-job`).
///
/// # Errors
/// A malformed id; store errors.
pub async fn created(service: &Service, by: &str, created: Created) -> ApiResult<u64> {
    let command = BackupCommand::RecordCreated(created);
    service
        .execute::<Backups>(STREAM, SYSTEM_SUBJECT, Metadata::actor(by.to_owned()), move |_| {
            Ok(command.clone())
        })
        .await
}

/// Records a drill's verdict.
///
/// # Errors
/// A malformed record; store errors.
pub async fn drilled(service: &Service, by: &str, drilled: Drilled) -> ApiResult<u64> {
    let command = BackupCommand::RecordDrill(drilled);
    service
        .execute::<Backups>(STREAM, SYSTEM_SUBJECT, Metadata::actor(by.to_owned()), move |_| {
            Ok(command.clone())
        })
        .await
}

/// The stream as this process last read it; [`Follower::refresh`] reads its tail.
#[derive(Default)]
pub struct Follower {
    known: Mutex<(u64, BackupState)>,
}

impl Follower {
    /// Reads the events after the known version and returns the state.
    ///
    /// # Errors
    /// Store errors (the last known state stays).
    pub async fn refresh(&self, store: &EventStore) -> anyhow::Result<BackupState> {
        loop {
            let from = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0 + 1;
            let events = store.read_stream(STREAM, from, 100).await?;
            let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if events.is_empty() {
                return Ok(known.1.clone());
            }
            for event in events {
                if event.envelope.stream_version != known.0 + 1 {
                    continue;
                }
                if let Some(decoded) = event.decode::<BackupEvent>()? {
                    known.1 = Backups::evolve(std::mem::take(&mut known.1), &decoded);
                }
                known.0 = event.envelope.stream_version;
            }
        }
    }
}

/// Seconds since `at` (0 when in the future).
pub fn age_seconds(at: OffsetDateTime, now: OffsetDateTime) -> f64 {
    (now - at).as_seconds_f64().max(0.0)
}
