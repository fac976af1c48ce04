//! `serve --backup-every D --backup-dir DIR`: scheduled backup sets, one server at a time.
//!
//! Every tick (a quarter of the interval, 1 s to 60 s) a server takes the backup lock (the
//! Postgres advisory lock, or `backup.lock` in a SQLite data dir; a server finding it taken
//! skips the tick), refreshes the erasure ledger beside the sets from the live log, and takes a
//! set when the newest one the log records (`system-backups`) is older than the interval. The
//! set is recorded before the lock is released, so the next server to take the lock sees it:
//! with any number of servers, one set per interval.
//!
//! Must not: run without recipients (checked at start), or stop the server when a backup fails
//! (it is logged, and the backup-age alert fires when none succeeds).

use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;
use vigil_domain::backup::Created;
use vigil_eventstore::Location;
use vigil_eventstore::snapshot;

use super::create::{self, Recipients};
use super::ledger;
use super::record::{self, Follower};
use super::rotate::Policy;
use crate::erasure::inactivity::lock::RunLock;
use crate::service::Service;

/// The advisory lock's key ("vigil-backups").
const ADVISORY_KEY: i64 = 0x7669_6769_6c2d_6275;
/// The lock file in a SQLite data dir.
pub const LOCK_FILE: &str = "backup.lock";
/// The actor backup records of the job carry.
pub const ACTOR: &str = "system:backup-job";

/// What the job needs, checked at start.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// How often.
    pub every: Duration,
    /// Where.
    pub dir: PathBuf,
    /// For whom.
    pub recipients: Recipients,
    /// What to keep.
    pub policy: Policy,
}

impl Schedule {
    /// The schedule `serve`'s flags ask for; `None` when backups are off.
    ///
    /// # Errors
    /// An interval without a dir or recipients, or bad recipients.
    pub fn from_args(args: &super::args::ServeBackupArgs) -> anyhow::Result<Option<Schedule>> {
        let Some(every) = args.backup_every else {
            if args.backup_dir.is_some() || args.recipients.any() {
                anyhow::bail!("--backup-dir and backup recipients take effect only with --backup-every");
            }
            return Ok(None);
        };
        let dir = args
            .backup_dir
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--backup-every needs --backup-dir"))?;
        Ok(Some(Schedule {
            every,
            dir,
            recipients: args.recipients.resolve()?,
            policy: args.retention.policy(),
        }))
    }
}

/// Runs the job until the task is aborted.
pub async fn run(service: Service, location: Location, data_dir: Option<PathBuf>, schedule: Schedule) {
    let tick = (schedule.every / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let follower = Follower::default();
    loop {
        tokio::time::sleep(tick).await;
        let lock = match RunLock::try_take_for(service.db(), ADVISORY_KEY, LOCK_FILE).await {
            Ok(Some(lock)) => lock,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "backup job: cannot take the backup lock");
                continue;
            }
        };
        if let Err(e) = round(&service, &location, data_dir.as_deref(), &schedule, &follower).await {
            tracing::error!(error = format!("{e:#}"), "backup job: the backup failed");
        }
        lock.release().await;
    }
}

async fn round(
    service: &Service,
    location: &Location,
    data_dir: Option<&std::path::Path>,
    schedule: &Schedule,
    follower: &Follower,
) -> anyhow::Result<()> {
    if schedule.dir.exists() {
        let live = snapshot::erasure_ledger(location).await?;
        ledger::merge_into(&ledger::path_in(&schedule.dir), &live)?;
    }
    let state = follower.refresh(service.store()).await?;
    let now = OffsetDateTime::now_utc();
    let due = state.last_created.as_ref().is_none_or(|c| now - c.at >= schedule.every);
    if !due {
        return Ok(());
    }
    let done = create::create(location, data_dir, &schedule.dir, &schedule.recipients, schedule.policy).await?;
    record::created(
        service,
        ACTOR,
        Created {
            id: done.manifest.id.clone(),
            by: ACTOR.to_owned(),
            at: done.manifest.created_at,
            head_position: done.manifest.head_position,
            log_bytes: done.manifest.log.bytes,
            vault_bytes: done.manifest.vault.bytes,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("the set {} was written but not recorded: {e}", done.manifest.id))?;
    tracing::info!(
        set = %done.manifest.id,
        events = done.manifest.head_position,
        log_bytes = done.manifest.log.bytes,
        vault_bytes = done.manifest.vault.bytes,
        seconds = done.elapsed.as_secs_f64(),
        rotated = done.deleted.len(),
        "backup set taken"
    );
    Ok(())
}
